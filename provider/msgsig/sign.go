package msgsig

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dunglas/httpsfv"
)

// Label is the signature label we sign with: the one Mastodon's Linzer and
// the FASP examples use.
const Label = "sig1"

var (
	requestComponents  = []string{"@method", "@target-uri", "content-digest"}
	responseComponents = []string{"@status", "content-digest"}
)

// SignRequest signs an outgoing FASP request exactly as Mastodon (Linzer)
// does, so any FASP peer that verifies Mastodon verifies us: it sets
// Content-Digest over body, Signature-Input
// sig1=("@method" "@target-uri" "content-digest");created=N;keyid="…" and
// Signature. The target URI is req.URL.String(); no alg, nonce or expires is
// added. body must be the exact bytes that will be sent.
func SignRequest(req *http.Request, body []byte, keyID string, priv ed25519.PrivateKey, created time.Time) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("msgsig: private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if req.URL == nil {
		return errors.New("msgsig: request has no URL")
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	line, err := paramsLine(requestComponents, created, keyID, true)
	if err != nil {
		return fmt.Errorf("msgsig: sign request with keyid %q: %w", keyID, err)
	}
	req.Header.Set("Content-Digest", ContentDigest(body))
	in := &sigInput{label: Label, components: requestComponents, paramsLine: line}
	base, err := buildBase(requestMessage(req, req.URL.String()), in)
	if err != nil {
		return fmt.Errorf("msgsig: sign request: %w", err)
	}
	setSignature(req.Header, line, ed25519.Sign(priv, base))
	return nil
}

// SignResponse signs a FASP response the way Mastodon signs its own and
// expects ours (mastodon-interop.md §1.6-1.7): Content-Digest in the exact
// "sha-256=:…:" form, and one signature sig1=("@status" "content-digest");
// created=N with no keyid, since the peer knows our key already. Every 2xx
// and 3xx reply, 204 included, must carry it. It panics if priv is not an
// Ed25519 private key, like ed25519.Sign: that is a configuration bug.
func SignResponse(h http.Header, status int, body []byte, priv ed25519.PrivateKey, created time.Time) {
	// Every answer is signed, so the constant parts are written directly:
	// the same bytes as paramsLine and buildBase produce for these
	// components (TestSignResponseMatchesGenericPath).
	line := responseParamsLine(created)
	digest := ContentDigest(body)
	h.Set("Content-Digest", digest)
	base := make([]byte, 0, 160)
	base = append(base, `"@status": `...)
	base = strconv.AppendInt(base, int64(status), 10)
	base = append(base, "\n\"content-digest\": "...)
	base = append(base, digest...)
	base = append(base, "\n\"@signature-params\": "...)
	base = append(base, line...)
	setSignature(h, line, ed25519.Sign(priv, base))
}

// responseParamsLine is paramsLine(responseComponents, created, "", false).
func responseParamsLine(created time.Time) string {
	const prefix = `("@status" "content-digest");created=`
	b := make([]byte, 0, len(prefix)+20)
	return string(strconv.AppendInt(append(b, prefix...), created.Unix(), 10))
}

// paramsLine serialises the inner list we sign, canonically, through httpsfv
// so that a keyid needing escapes (or one that is not a valid sf-string) is
// handled by the same code that parses it on the other side.
func paramsLine(components []string, created time.Time, keyID string, withKeyID bool) (string, error) {
	items := make([]httpsfv.Item, len(components))
	for i, c := range components {
		items[i] = httpsfv.NewItem(c)
	}
	p := httpsfv.NewParams()
	p.Add("created", created.Unix())
	if withKeyID {
		if !validSFString(keyID) {
			return "", errors.New("keyid must be printable ASCII")
		}
		p.Add("keyid", keyID)
	}
	return httpsfv.Marshal(httpsfv.InnerList{Items: items, Params: p})
}

func validSFString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func setSignature(h http.Header, line string, sig []byte) {
	h.Set("Signature-Input", Label+"="+line)
	h.Set("Signature", Label+"=:"+base64.StdEncoding.EncodeToString(sig)+":")
}
