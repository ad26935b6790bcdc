package msgsig

import (
	"crypto/ed25519"
	"net/http"
	"testing"
	"time"
)

// benchBody is the 27-byte JSON body of the dependencies.md §4.1 baseline.
var benchBody = []byte(`{"account":{"id":"12345"}}` + "\n")

func BenchmarkVerifyRequest(b *testing.B) {
	r := signedRequest(b, http.MethodPost, benchBody)
	lookup := lookupOf(map[string][]ed25519.PublicKey{testKeyID: {testPub}})
	opts := VerifyOptions{Now: fixedNow(testCreated)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyRequest(r, testTarget, benchBody, lookup, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignRequest(b *testing.B) {
	r, err := http.NewRequest(http.MethodPost, testTarget, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := SignRequest(r, benchBody, testKeyID, testPriv, testCreated); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignResponse(b *testing.B) {
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		SignResponse(h, http.StatusOK, benchBody, testPriv, testCreated)
	}
}

func BenchmarkVerifyResponse(b *testing.B) {
	h := http.Header{}
	SignResponse(h, http.StatusOK, benchBody, testPriv, testCreated)
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyResponse(http.StatusOK, h, benchBody, testPub, testCreated, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCavageRequest(b *testing.B) {
	r := cavageRequest(b, benchBody, testCreated)
	lookup := lookupOf(map[string][]ed25519.PublicKey{"https://social.example/actor#main-key": {testPub}})
	opts := VerifyOptions{Now: fixedNow(testCreated.Add(time.Second))}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyCavageRequest(r, benchBody, lookup, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519Verify is the floor under every verify benchmark above,
// measured on the same machine and base size for comparison.
func BenchmarkEd25519Verify(b *testing.B) {
	r := signedRequest(b, http.MethodPost, benchBody)
	base, err := SignatureBase(r, testTarget)
	if err != nil {
		b.Fatal(err)
	}
	sig := ed25519.Sign(testPriv, []byte(base))
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(testPub, []byte(base), sig) {
			b.Fatal("verify failed")
		}
	}
}
