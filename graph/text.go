package graph

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// Go's JSON decoder, which gqlgen's transports use, and gqlparser's lexer replace invalid
// UTF-8 and unpaired UTF-16 surrogate escapes with U+FFFD before any resolver sees the value:
// the client's text would be stored altered, and two different ids could become one. So before
// the request is decoded, every such sequence is rewritten into models.InvalidTextMarker, which
// every text check refuses at its path (a user error in ingested input and patches,
// BAD_USER_INPUT in arguments). Each rewrite is one linear pass, and a request with nothing to
// rewrite (the usual case) is passed on untouched after a scan.

// markerBytes is models.InvalidTextMarker in UTF-8, and markerEscape as a JSON or GraphQL
// string escape (the same length as the surrogate escape it replaces).
var (
	markerBytes  = string(models.InvalidTextMarker)
	markerEscape = `\uffff`
)

// withValidText rewrites the invalid text of a request's JSON body (POST) or of its query
// string (GET) before next decodes it. The body has been read into memory already.
func withValidText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			if r.Body != nil {
				if body, err := heldBody(r.Body); err == nil {
					r.Body.Close()
					body = markJSON(body)
					r.Body, r.ContentLength = newBodyBytes(body), int64(len(body))
				}
			}
		case http.MethodGet:
			if q := markQueryString(r.URL.RawQuery); q != r.URL.RawQuery {
				u := *r.URL
				u.RawQuery = q
				r = r.Clone(r.Context())
				r.URL = &u
			}
		}
		next.ServeHTTP(w, r)
	})
}

// markQueryString rewrites the parameters of a GET request: the document and the operation
// name as text, the variables and extensions as JSON.
func markQueryString(raw string) string {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return raw // the transport refuses it
	}
	changed := false
	for key, vs := range vals {
		for i, v := range vs {
			var m string
			switch key {
			case "variables", "extensions":
				m = string(markJSON([]byte(v)))
			default:
				m = markText(v)
			}
			if m != v {
				vs[i], changed = m, true
			}
		}
	}
	if !changed {
		return raw
	}
	return vals.Encode()
}

// markText replaces every byte of s that is not part of valid UTF-8 with the marker, one
// marker per byte as Go's decoders count them.
func markText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			b.WriteString(markerBytes)
		} else {
			b.WriteString(s[i : i+w])
		}
		i += w
	}
	return b.String()
}

// markJSON rewrites a JSON text: every byte that is not part of valid UTF-8 becomes the
// marker's UTF-8, and every \uXXXX escape of a surrogate that is not the high half of a pair
// followed by its low half becomes the marker's escape; everything else is copied as it is.
// Backslashes occur only in strings in valid JSON, so escapes are recognised without tracking
// strings; in invalid JSON the rewrite keeps it invalid, and the decoder refuses it as before.
// The result is at most three times as long as b (an invalid byte becomes three).
func markJSON(b []byte) []byte {
	if utf8.Valid(b) && !bytes.Contains(b, []byte(`\ud`)) && !bytes.Contains(b, []byte(`\uD`)) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\\':
			if n := surrogateEscape(b[i:]); n > 0 {
				out = append(out, b[i:i+n]...)
				i += n
			} else if n < 0 {
				out = append(out, markerEscape...)
				i += 6
			} else if i+1 < len(b) && b[i+1] < utf8.RuneSelf {
				// Any other escape: its second byte cannot start another one.
				out = append(out, b[i:i+2]...)
				i += 2
			} else {
				out = append(out, c)
				i++
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, w := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && w == 1 {
				out = append(out, markerBytes...)
			} else {
				out = append(out, b[i:i+w]...)
			}
			i += w
		}
	}
	return out
}

// surrogateEscape looks at an escape at the start of b: 12 for a high surrogate escape followed
// by a low one (a valid pair), -1 for an unpaired surrogate escape (6 bytes), 0 for any other
// escape. Surrogate pairs are read as Go's JSON decoder and gqlparser read them.
func surrogateEscape(b []byte) int {
	r, ok := hex4(b)
	if !ok || r < 0xD800 || r > 0xDFFF {
		return 0
	}
	if r < 0xDC00 {
		if r2, ok := hex4(b[6:]); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
			return 12
		}
	}
	return -1
}

// hex4 reads \uXXXX at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// markDocument rewrites the unpaired surrogate escapes inside the string literals of a GraphQL
// document (block strings have no escapes, comments are not values). Invalid UTF-8 in a
// document has been rewritten already, with the JSON or query string that carried it.
func markDocument(doc string) string {
	if !strings.Contains(doc, `\ud`) && !strings.Contains(doc, `\uD`) {
		return doc
	}
	var out []byte // a copy, made at the first rewrite
	for i := 0; i < len(doc); {
		switch {
		case doc[i] == '#':
			for i < len(doc) && doc[i] != '\n' && doc[i] != '\r' {
				i++
			}
		case strings.HasPrefix(doc[i:], `"""`):
			i += 3
			for i < len(doc) && !strings.HasPrefix(doc[i:], `"""`) {
				if strings.HasPrefix(doc[i:], `\"""`) {
					i += 3
				}
				i++
			}
			i += 3
		case doc[i] == '"':
			i++
			for i < len(doc) && doc[i] != '"' && doc[i] != '\n' && doc[i] != '\r' {
				if doc[i] != '\\' {
					i++
					continue
				}
				switch n := surrogateEscape([]byte(doc[i:min(i+12, len(doc))])); {
				case n > 0:
					i += n
				case n < 0:
					if out == nil {
						out = []byte(doc)
					}
					copy(out[i:], markerEscape)
					i += 6
				default:
					i += 2
				}
			}
			i++
		default:
			i++
		}
	}
	if out == nil {
		return doc
	}
	return string(out)
}

// MarkInvalidText is markJSON for JSON read elsewhere than from a request, such as a customer
// of a publisher file: invalid text reaches validation as the marker, at its path.
func MarkInvalidText(b []byte) []byte { return markJSON(b) }
