package graph

import (
	"bytes"
	"encoding/json"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// A POST body is decoded by encoding/json, whose Decoder reads the whole value twice (once to
// find its end, once to decode it) and builds the document text byte by byte: on a small
// query that was a tenth of the server's work. The bodies clients send are simpler than
// what encoding/json accepts, and those are decoded here in one pass, into exactly what
// encoding/json would have made of them; any other body is left to encoding/json, which
// also words the errors.

// requestDecoders keeps jsontext decoders and their buffers.
var requestDecoders = sync.Pool{New: func() any { return jsontext.NewDecoder(bytes.NewReader(nil)) }}

// maxPooledRequest is the largest body whose decoder goes back to the pool (a decoder keeps
// a buffer as large as what it read).
const maxPooledRequest = 64 << 10

// decodeSimple decodes body into p and reports true when body is a JSON object, valid
// UTF-8, whose members are each given once under their exact names, with a string or null
// for query, operationName and documentId (without \u escapes, whose lone surrogates
// encoding/json replaces in its own way) and an object or null for variables and
// extensions. The objects are decoded by encoding/json, numbers as json.Number. When it
// reports false, p is unchanged.
func (p *requestParams) decodeSimple(body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	dec := requestDecoders.Get().(*jsontext.Decoder)
	if len(body) <= maxPooledRequest {
		defer requestDecoders.Put(dec)
	}
	dec.Reset(bytes.NewReader(body)) // duplicate names are an error, so never decoded here
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return false
	}
	var out requestParams
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return false
		}
		ok := false
		switch name.String() {
		case "query":
			ok = decodeString(dec, &out.Query)
		case "operationName":
			ok = decodeString(dec, &out.OperationName)
		case "documentId":
			ok = decodeString(dec, &out.DocumentID)
		case "variables":
			ok = decodeObject(dec, &out.Variables)
		case "extensions":
			ok = decodeObject(dec, &out.Extensions)
		}
		if !ok {
			return false
		}
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '}' {
		return false
	}
	*p = out
	return true
}

// decodeString reads a string or null (which leaves s empty, as encoding/json does).
func decodeString(dec *jsontext.Decoder, s *string) bool {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return err == nil
	case '"':
		raw, err := dec.ReadValue()
		return err == nil && documents.unquote(raw, s)
	}
	return false
}

// documents keeps the text of the query documents clients send again and again, by their
// quoted JSON: a document sent before is neither unquoted nor copied again.
var documents = textCache{max: 256, maxLen: 8 << 10}

// textCache maps quoted JSON strings to their text. It holds at most max strings of at most
// maxLen bytes, and starts over when full.
type textCache struct {
	max, maxLen int
	mu          sync.RWMutex
	m           map[string]string
}

// unquote sets *s to the text of raw, a JSON string, when it has no \u escapes.
func (c *textCache) unquote(raw []byte, s *string) bool {
	if len(raw) > c.maxLen {
		return plainText(raw, s)
	}
	c.mu.RLock()
	text, ok := c.m[string(raw)]
	c.mu.RUnlock()
	if ok {
		*s = text
		return true
	}
	if !plainText(raw, s) {
		return false
	}
	c.mu.Lock()
	if len(c.m) >= c.max || c.m == nil {
		c.m = make(map[string]string, c.max)
	}
	c.m[string(raw)] = *s
	c.mu.Unlock()
	return true
}

// plainText sets *s to the text of raw, a JSON string, when it has no \u escapes (whose lone
// surrogates encoding/json replaces in its own way).
func plainText(raw []byte, s *string) bool {
	if bytes.Contains(raw, []byte(`\u`)) {
		return false
	}
	text, err := jsontext.AppendUnquote(nil, raw)
	if err != nil {
		return false
	}
	*s = string(text)
	return true
}

// decodeObject reads an object, or null (which leaves m nil), into what encoding/json makes
// of it with UseNumber. Its members that are strings without \u escapes, numbers, booleans
// and null (the variables of most requests) are read here; objects and arrays are decoded
// by encoding/json.
func decodeObject(dec *jsontext.Decoder, m *map[string]any) bool {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return err == nil
	case '{':
		if _, err := dec.ReadToken(); err != nil {
			return false
		}
		out := map[string]any{}
		for dec.PeekKind() == '"' {
			tok, err := dec.ReadToken()
			if err != nil {
				return false
			}
			name := tok.String() // the token lasts until the next read
			kind := dec.PeekKind()
			raw, err := dec.ReadValue()
			if err != nil {
				return false
			}
			var v any
			switch kind {
			case '"':
				var text string
				if !plainText(raw, &text) {
					return false
				}
				v = text
			case '0':
				v = json.Number(raw)
			case 't', 'f':
				v = kind == 't'
			case 'n':
			default:
				d := json.NewDecoder(bytes.NewReader(raw))
				d.UseNumber()
				if d.Decode(&v) != nil {
					return false
				}
			}
			out[name] = v
		}
		if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '}' {
			return false
		}
		*m = out
		return true
	}
	return false
}
