//go:build race

package main

// raceEnabled reports that the test binary was built with -race, so that
// the ghostbench binary built by the tests uses it too and reuses the
// packages already compiled for the test.
const raceEnabled = true
