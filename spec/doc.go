// Package spec holds Breakwater's published specifications as data: the
// spam_detection v0.1 provider specification (README.md), its OpenAPI
// description, JSON Schemas, stable code lists and JSON test vectors, all
// under spam_detection/v0.1/.
//
// No package imports this one; it has no API. It exists so that `go test
// ./spec/` runs spec_test.go, which compiles every schema, validates every
// example against its schema, checks that every invalid example fails on the
// field it names, resolves every $ref in openapi.yaml and keeps README.md and
// codes.json in step. Handler and engine tests read the files directly, by
// path relative to the repository root.
package spec
