package msgsig

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dunglas/httpsfv"
)

// sigInput is the one signature described by a Signature-Input header.
type sigInput struct {
	label      string
	components []string
	// paramsLine is the canonical RFC 8941 serialisation of the inner list
	// as received, sender's parameter order kept: the @signature-params value.
	paramsLine string

	created    int64
	hasCreated bool
	expires    int64
	hasExpires bool
	keyID      string
	hasKeyID   bool
}

// derived lists the RFC 9421 derived components this package can rebuild.
// @query-param and the ;req / ;sf / ;key / ;bs forms are not supported and are
// rejected rather than silently computed wrongly.
var derived = map[string]bool{
	"@method":         true,
	"@target-uri":     true,
	"@authority":      true,
	"@scheme":         true,
	"@request-target": true,
	"@path":           true,
	"@query":          true,
	"@status":         true,
}

// parseSignatureInput parses the Signature-Input field lines into the single
// signature they must describe.
func parseSignatureInput(values []string) (*sigInput, error) {
	if blank(values) {
		return nil, fail(CauseMissingSignature, "Signature-Input header is missing")
	}
	dict, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return nil, fail(CauseMalformed, "Signature-Input is not a valid structured-field dictionary")
	}
	names := dict.Names()
	switch {
	case len(names) == 0:
		return nil, fail(CauseMissingSignature, "Signature-Input has no signature")
	case len(names) > 1:
		return nil, fail(CauseMultipleSignatures, "Signature-Input has %d labels; exactly one is accepted", len(names))
	}
	label := names[0]
	m, _ := dict.Get(label)
	list, ok := m.(httpsfv.InnerList)
	if !ok {
		return nil, fail(CauseMalformed, "Signature-Input %q is not an inner list", label)
	}
	in := &sigInput{label: label, components: make([]string, 0, len(list.Items))}
	for _, it := range list.Items {
		name, ok := it.Value.(string)
		if !ok {
			return nil, fail(CauseMalformed, "covered component is not a string")
		}
		if it.Params != nil && len(it.Params.Names()) > 0 {
			return nil, fail(CauseMalformed, "component parameters on %q are not supported", name)
		}
		if !validComponent(name) {
			return nil, fail(CauseMalformed, "unsupported covered component %q", name)
		}
		for _, seen := range in.components {
			if seen == name {
				return nil, fail(CauseMalformed, "component %q is covered twice", name)
			}
		}
		in.components = append(in.components, name)
	}
	if list.Params != nil {
		for _, k := range list.Params.Names() {
			v, _ := list.Params.Get(k)
			switch k {
			case "created":
				n, ok := v.(int64)
				if !ok {
					return nil, fail(CauseMalformed, "created must be an integer")
				}
				in.created, in.hasCreated = n, true
			case "expires":
				n, ok := v.(int64)
				if !ok {
					return nil, fail(CauseMalformed, "expires must be an integer")
				}
				in.expires, in.hasExpires = n, true
			case "keyid":
				s, ok := v.(string)
				if !ok {
					return nil, fail(CauseMalformed, "keyid must be a string")
				}
				in.keyID, in.hasKeyID = s, true
			case "alg":
				if s, ok := v.(string); !ok || s != "ed25519" {
					return nil, fail(CauseMalformed, "unsupported alg; only ed25519 is accepted")
				}
			}
			// nonce, tag and unknown parameters are tolerated: they are
			// covered by the signature through @signature-params anyway.
		}
	}
	line, err := httpsfv.Marshal(list)
	if err != nil {
		return nil, fail(CauseMalformed, "Signature-Input %q cannot be re-serialised", label)
	}
	in.paramsLine = line
	return in, nil
}

// parseSignatureValue returns the signature bytes for label from the
// Signature field lines.
func parseSignatureValue(values []string, label string) ([]byte, error) {
	if blank(values) {
		return nil, fail(CauseMissingSignature, "Signature header is missing")
	}
	dict, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return nil, fail(CauseMalformed, "Signature is not a valid structured-field dictionary")
	}
	if n := len(dict.Names()); n > 1 {
		return nil, fail(CauseMultipleSignatures, "Signature has %d labels; exactly one is accepted", n)
	}
	m, ok := dict.Get(label)
	if !ok {
		return nil, fail(CauseMalformed, "Signature has no value for label %q", label)
	}
	item, ok := m.(httpsfv.Item)
	if !ok {
		return nil, fail(CauseMalformed, "Signature %q is not a byte sequence", label)
	}
	sig, ok := item.Value.([]byte)
	if !ok {
		return nil, fail(CauseMalformed, "Signature %q is not a byte sequence", label)
	}
	return sig, nil
}

func blank(values []string) bool {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// validComponent accepts the supported derived components and lower-case
// field names (RFC 9421 §2.1 requires lower case).
func validComponent(name string) bool {
	if name == "" {
		return false
	}
	if name[0] == '@' {
		return derived[name]
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// message is what a signature base is computed from: a request (method,
// target URI, Host) or a response (status), plus its header fields.
type message struct {
	response  bool
	status    int
	method    string
	targetURI string
	host      string
	header    http.Header

	u *url.URL // targetURI, parsed on first use
}

func (m *message) url() (*url.URL, error) {
	if m.u != nil {
		return m.u, nil
	}
	u, err := url.Parse(m.targetURI)
	if err != nil {
		return nil, fail(CauseMalformed, "target URI cannot be parsed")
	}
	m.u = u
	return u, nil
}

// component returns the RFC 9421 §2 value of one covered component.
func (m *message) component(name string) (string, error) {
	if name[0] != '@' {
		return m.field(name)
	}
	if name == "@status" {
		if !m.response {
			return "", fail(CauseMalformed, "@status cannot be covered in a request")
		}
		return strconv.Itoa(m.status), nil
	}
	if m.response {
		return "", fail(CauseMalformed, "%s cannot be derived from a response", name)
	}
	switch name {
	case "@method":
		return m.method, nil
	case "@target-uri":
		return m.targetURI, nil
	case "@authority":
		return m.authority()
	}
	u, err := m.url()
	if err != nil {
		return "", err
	}
	switch name {
	case "@scheme":
		if u.Scheme == "" {
			return "", fail(CauseMalformed, "target URI has no scheme")
		}
		return strings.ToLower(u.Scheme), nil
	case "@path":
		if p := u.EscapedPath(); p != "" {
			return p, nil
		}
		return "/", nil
	case "@query":
		return "?" + u.RawQuery, nil
	case "@request-target":
		p := u.EscapedPath()
		if p == "" {
			p = "/"
		}
		if u.RawQuery != "" || u.ForceQuery {
			return p + "?" + u.RawQuery, nil
		}
		return p, nil
	}
	return "", fail(CauseMalformed, "unsupported covered component %q", name)
}

// authority is the Host the request was sent to, lower-cased and without the
// scheme's default port (RFC 9421 §2.2.3).
func (m *message) authority() (string, error) {
	host := m.host
	if host == "" {
		u, err := m.url()
		if err != nil {
			return "", err
		}
		host = u.Host
	}
	if host == "" {
		return "", fail(CauseMissingComponent, "request has no authority")
	}
	host = strings.ToLower(host)
	if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.HasSuffix(host, "]") {
		if u, err := m.url(); err == nil {
			port := host[i+1:]
			if (port == "443" && strings.EqualFold(u.Scheme, "https")) || (port == "80" && strings.EqualFold(u.Scheme, "http")) {
				host = host[:i]
			}
		}
	}
	return host, nil
}

// field returns a header field's value per RFC 9421 §2.1: each field line
// trimmed, obsolete line folding replaced by a space, lines joined by ", ".
func (m *message) field(name string) (string, error) {
	values := m.header.Values(name)
	if len(values) == 0 && name == "host" && !m.response && m.host != "" {
		// Go moves the Host header of server requests into Request.Host.
		values = []string{m.host}
	}
	if len(values) == 0 {
		return "", fail(CauseMissingComponent, "covered header %q is absent from the message", name)
	}
	if len(values) == 1 {
		return cleanFieldValue(name, values[0])
	}
	var b strings.Builder
	for i, v := range values {
		c, err := cleanFieldValue(name, v)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c)
	}
	return b.String(), nil
}

func cleanFieldValue(name, v string) (string, error) {
	if strings.ContainsAny(v, "\r\n") {
		var err error
		if v, err = unfold(name, v); err != nil {
			return "", err
		}
	}
	return strings.Trim(v, " \t"), nil
}

// unfold replaces obs-fold (OWS CRLF RWS) by one space; any other CR or LF
// would let a header value forge extra lines of the signature base.
func unfold(name, v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); {
		c := v[i]
		if c != '\r' && c != '\n' {
			b.WriteByte(c)
			i++
			continue
		}
		j := i
		if v[j] == '\r' {
			j++
		}
		if j >= len(v) || v[j] != '\n' {
			return "", fail(CauseMalformed, "header %q contains a bare line break", name)
		}
		j++
		k := j
		for k < len(v) && (v[k] == ' ' || v[k] == '\t') {
			k++
		}
		if k == j {
			return "", fail(CauseMalformed, "header %q contains a bare line break", name)
		}
		s := strings.TrimRight(b.String(), " \t")
		b.Reset()
		b.WriteString(s)
		b.WriteByte(' ')
		i = k
	}
	return b.String(), nil
}

// buildBase assembles the RFC 9421 §2.5 signature base: one line per covered
// component, then the @signature-params line, LF-separated, no final LF.
func buildBase(m *message, in *sigInput) ([]byte, error) {
	buf := make([]byte, 0, 256)
	for _, c := range in.components {
		v, err := m.component(c)
		if err != nil {
			return nil, err
		}
		buf = append(buf, '"')
		buf = append(buf, c...)
		buf = append(buf, `": `...)
		buf = append(buf, v...)
		buf = append(buf, '\n')
	}
	buf = append(buf, `"@signature-params": `...)
	buf = append(buf, in.paramsLine...)
	return buf, nil
}

// SignatureBase rebuilds the signature base that the single signature in r's
// Signature-Input covers, exactly as VerifyRequest does. It exists so that
// interop failures can be debugged by comparing bases with the peer's, and so
// that known-answer vectors can be checked byte for byte.
func SignatureBase(r *http.Request, targetURI string) (string, error) {
	in, err := parseSignatureInput(r.Header.Values("Signature-Input"))
	if err != nil {
		return "", err
	}
	base, err := buildBase(requestMessage(r, targetURI), in)
	if err != nil {
		return "", err
	}
	return string(base), nil
}

// ResponseSignatureBase is SignatureBase for a response, as VerifyResponse
// rebuilds it.
func ResponseSignatureBase(status int, h http.Header) (string, error) {
	in, err := parseSignatureInput(h.Values("Signature-Input"))
	if err != nil {
		return "", err
	}
	base, err := buildBase(&message{response: true, status: status, header: h}, in)
	if err != nil {
		return "", err
	}
	return string(base), nil
}

func requestMessage(r *http.Request, targetURI string) *message {
	method := r.Method
	if method == "" {
		method = http.MethodGet // net/http's meaning of an empty client method
	}
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	return &message{method: method, targetURI: targetURI, host: host, header: r.Header}
}
