## bench/local.mk: benchmarks are scripts run by hand (see bench/README); they ship in the tarball.
EXTRA_DIST += bench/README
