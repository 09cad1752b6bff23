// Package bench is the scale proof of Focal Point (issue 8): a generator
// that fills a database with a synthetic consultation through the store's
// bulk path, a load driver that plays respondents over HTTP, and the bare
// baselines every figure in docs/BENCHMARKS.md is a ratio to. The programs
// in bench/gen, bench/load and bench/baseline are thin wrappers; bench/run
// runs them all in one go. Nothing here runs in the default test budget
// except the small smoke tests.
package bench
