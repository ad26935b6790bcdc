package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/breakwater-fasp/breakwater/client"
	"github.com/breakwater-fasp/breakwater/provider/msgsig"
)

// A server screens a sign-up before creating the account. Here an
// httptest server stands in for Breakwater; in production BaseURL is
// Breakwater's public URL, the key comes from client.LoadPrivateKey and the
// provider key from the registration.
func ExampleClient_CheckSignup() {
	_, serverKey, _ := ed25519.GenerateKey(rand.Reader)             // the fediverse server's key
	providerPub, providerKey, _ := ed25519.GenerateKey(rand.Reader) // Breakwater's key for that server
	breakwater := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := []byte(`{"checkId":"01jq0example","decision":"review","score":70,"reasons":[{"code":"disposable_email","message":"The e-mail domain hands out throwaway addresses.","weight":40}]}`)
		w.Header().Set("Content-Type", "application/json")
		msgsig.SignResponse(w.Header(), http.StatusOK, body, providerKey, time.Now())
		_, _ = w.Write(body)
	}))
	defer breakwater.Close()

	c, err := client.New(client.Options{
		BaseURL:     breakwater.URL,
		ServerID:    "01jq0serverid",
		PrivateKey:  serverKey,
		ProviderKey: providerPub,
		FailMode:    client.FailClosed, // hold for a moderator if Breakwater is down
	})
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.CheckSignup(context.Background(), client.SignupCheck{
		Account: client.SignupAccount{Username: "lenak8841", Email: "lenak8841@mailinator.example", Reason: "hi"},
		IP:      "203.0.113.7",
	})
	if err != nil {
		log.Printf("no decision from Breakwater, using %s: %v", res.Decision, err) // res is the fallback
	}
	switch res.Decision {
	case client.Allow:
		fmt.Println("create the account")
	case client.Review:
		fmt.Println("create it pending approval:", res.Reasons[0].Code)
	case client.Reject:
		fmt.Println("refuse the sign-up")
	}
	// Output: create it pending approval: disposable_email
}
