// Package e2e holds Breakwater's process-level tests: they build the real
// binary once, run `breakwater serve` (one or several replicas) and the
// operator commands as child processes on loopback, and prove what the
// unit tests cannot: replicas on one PostgreSQL decide as one, a killed
// process loses no answered check, a stopped database gives fast 503s and
// recovers by itself, slow fediverse servers never hold up request
// handlers, no outbound call reaches a private address unless allowed,
// secrets never reach the logs, and a backup restores.
//
// Every test is bounded in time and kills the processes it started. Run
// them with `go test ./e2e/`; -short skips the longest.
package e2e
