package middleware

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// StrictJSON refuses, with 400 BAD_USER_INPUT and before anything runs, a request that could
// be read two ways:
//
//   - a POST body with anything but white space after its JSON value (the transport would read
//     the first value and drop the rest);
//   - a key twice in one object, anywhere in the body: in the request object ("query" twice:
//     the transport would run the last one), in its variables and in every input object they
//     hold (which of two "status" values would a customer get?). In the request object keys
//     are compared ignoring case, as the transport's decoder matches them;
//   - on GET, a request parameter given twice, or variables or extensions whose JSON is
//     ambiguous in the same ways.
//
// JSON that is not valid for another reason (a syntax error, invalid UTF-8) passes on: the
// GraphQL layer answers it.
func StrictJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg string
		switch r.Method {
		case http.MethodPost:
			body, err := bodyBytes(r)
			if err != nil {
				writeError(w, http.StatusBadRequest, models.ErrBadUserInput, "the request body could not be read")
				return
			}
			msg = ambiguity(body, "the request body", true)
		case http.MethodGet:
			msg = ambiguousParams(r)
		}
		if msg != "" {
			writeError(w, http.StatusBadRequest, models.ErrBadUserInput, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requestKeys are the members of a GraphQL request, as POST body keys and GET parameters.
var requestKeys = []string{"query", "operationName", "variables", "extensions"}

func ambiguousParams(r *http.Request) string {
	params := r.URL.Query()
	for _, k := range requestKeys {
		if len(params[k]) > 1 {
			return fmt.Sprintf("the request parameter %q is given %d times; give it once", k, len(params[k]))
		}
	}
	for _, k := range []string{"variables", "extensions"} {
		if v := params.Get(k); v != "" {
			if msg := ambiguity([]byte(v), "the "+k+" parameter", false); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// decoders keeps jsontext decoders, whose buffers are most of what a check allocates.
var decoders = sync.Pool{New: func() any { return jsontext.NewDecoder(bytes.NewReader(nil)) }}

// maxPooledBody is the largest body whose decoder goes back to the pool.
const maxPooledBody = 64 << 10

// ambiguity returns what makes data ambiguous, or "" when it is not (which includes data that
// is not valid JSON for another reason). With request set, data is a request object whose
// keys must also differ ignoring case.
func ambiguity(data []byte, what string, request bool) string {
	dec := decoders.Get().(*jsontext.Decoder)
	if len(data) <= maxPooledBody {
		defer decoders.Put(dec) // a decoder keeps what it learnt of the names: not of large bodies
	}
	// From a bytes.Buffer the decoder reads data in place instead of copying it.
	dec.Reset(bytes.NewBuffer(data), jsontext.AllowDuplicateNames(false), jsontext.AllowInvalidUTF8(true))
	var err error
	if request && dec.PeekKind() == '{' {
		err = readRequestObject(dec)
	} else {
		err = dec.SkipValue()
	}
	var dup *duplicateKey
	var serr *jsontext.SyntacticError
	switch {
	case errors.As(err, &dup):
		return fmt.Sprintf("%s has the keys %s and %s in its top-level object, which are read as one key; give each key once",
			what, quoteKey(dup.first), quoteKey(dup.second))
	case errors.As(err, &serr) && serr.Err == jsontext.ErrDuplicateName:
		key, in := serr.JSONPointer.LastToken(), pointerPath(serr.JSONPointer.Parent())
		if in == "" {
			in = "its top-level object"
		}
		return fmt.Sprintf("%s has the key %s twice in %s; give each key once", what, quoteKey(key), in)
	case err != nil:
		return "" // not JSON: answered by the GraphQL transport
	}
	end := dec.InputOffset()
	if _, err := dec.ReadToken(); err != io.EOF {
		return fmt.Sprintf("%s has more after its JSON value, which ends at byte %d; send exactly one JSON value", what, end)
	}
	return ""
}

// duplicateKey is two keys of the request object that the transport takes for one.
type duplicateKey struct{ first, second string }

func (d *duplicateKey) Error() string { return "duplicate key " + d.second }

// readRequestObject reads the request object of dec, returning a *duplicateKey when two of its
// keys differ only in case.
func readRequestObject(dec *jsontext.Decoder) error {
	if _, err := dec.ReadToken(); err != nil { // {
		return err
	}
	var seen []string
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String()
		for _, s := range seen {
			// encoding/json matches a key to a field ignoring case (with Unicode folding).
			if strings.EqualFold(s, name) {
				return &duplicateKey{first: s, second: name}
			}
		}
		seen = append(seen, name)
		if err := dec.SkipValue(); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken() // }, or the syntax error in its place
	return err
}

// pointerPath writes a JSON pointer the way error paths are written: variables.customers[0].
func pointerPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(shorten(tok))
	}
	return b.String()
}

// quoteKey quotes a key for a message, cut so that a huge key is not echoed back whole.
func quoteKey(k string) string { return strconv.Quote(shorten(k)) }

func shorten(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
