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
		if err != nil || bytes.Contains(raw, []byte(`\u`)) {
			return false
		}
		text, err := jsontext.AppendUnquote(nil, raw)
		if err != nil {
			return false
		}
		*s = string(text)
		return true
	}
	return false
}

// decodeObject reads an object, decoded by encoding/json as the transport always has, or null
// (which leaves m nil).
func decodeObject(dec *jsontext.Decoder, m *map[string]any) bool {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return err == nil
	case '{':
		raw, err := dec.ReadValue()
		if err != nil {
			return false
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		return d.Decode(m) == nil
	}
	return false
}
