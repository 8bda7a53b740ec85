// Package feed reads the publisher's customer files and loads them in batches. A file is
// either a document, {"customers": [...]}, or NDJSON with one customer per line; both are
// streamed, one customer at a time, so a file of any size loads in bounded memory.
package feed

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// peekSize is how much of the input is looked at to tell a document from NDJSON.
const peekSize = 64 << 10

// Reader yields the customers of a file, one raw JSON object at a time.
//
// NDJSON is read a line at a time while each line holds one whole JSON object: json.Valid
// checks it as the decoder would, in one pass, where the decoder's reading into a RawMessage
// scans every value twice (or the reader's decoder, which reads the line once into a customer;
// SetDecoder). From the first line that is anything else (a value across lines,
// two on a line, a syntax error, a line longer than the buffer) the decoder reads the rest,
// so such files read, and fail, exactly as before.
type Reader struct {
	br   *bufio.Reader
	dec  *json.Decoder // nil while NDJSON is read by lines
	doc  bool          // inside the "customers" array of a document
	done bool
	n    int
	// skipped is the bytes passed over before the decoder's input (a byte order mark), which
	// positions in the decoder's errors do not count.
	skipped int64
	// lines is the bytes of NDJSON read by lines (before the decoder's input).
	lines int64
	// start is where in the input the value being read began (or the last one did).
	start int64
	// line is the line on which the customer Next returned last starts, in NDJSON (0 in a
	// document); ends counts the line ends of the NDJSON read by lines, and decLine tells the
	// line of an offset into the decoder's input once the decoder reads NDJSON.
	line    int
	ends    int
	decLine *lineEnds
	// decodeFn, when set, decodes each customer as it is read (SetDecoder); decoded is what
	// it made of the customer Next returned last, or nil.
	decodeFn func([]byte) (*models.CustomerInput, bool)
	decoded  *models.CustomerInput
}

// SetDecoder has the reader decode each customer as it reads it: Decoded then returns what
// decode made of the customer Next returned, or nil when decode reported false. An NDJSON
// line decode takes needs no other check (decode reads exactly one JSON object, or reports
// false); any other line is checked by json.Valid as before.
func (r *Reader) SetDecoder(decode func(raw []byte) (*models.CustomerInput, bool)) {
	r.decodeFn = decode
}

// Decoded is the customer Next returned last, decoded, or nil (see SetDecoder).
func (r *Reader) Decoded() *models.CustomerInput { return r.decoded }

// Line is the line of the input (from 1) on which the customer Next returned last starts, in
// NDJSON; 0 in a document or a bare array, where a customer's place is its index.
func (r *Reader) Line() int { return r.line }

// accept tells whether an NDJSON line holds one whole JSON object, decoding it on the way
// when the reader has a decoder.
func (r *Reader) accept(v []byte) bool {
	if len(v) == 0 || v[0] != '{' {
		return false
	}
	if r.decodeFn != nil {
		if c, ok := r.decodeFn(v); ok {
			r.decoded = c
			return true
		}
	}
	return json.Valid(v)
}

// NewReader reads a {"customers": [...]} document or NDJSON (also a bare JSON array of
// customers) from r.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, peekSize)
	head, err := br.Peek(peekSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	rd := &Reader{br: br}
	if bytes.HasPrefix(head, []byte("\ufeff")) {
		_, _ = br.Discard(3) // a byte order mark some tools write
		head = head[3:]
		rd.skipped = 3
	}
	k := kind(head)
	if k != "ndjson" {
		rd.dec = newDecoder(br)
	}
	switch k {
	case "empty":
		rd.done = true
	case "array":
		if _, err := rd.dec.Token(); err != nil {
			return nil, syntaxErr(err)
		}
		rd.doc = true
	case "document":
		if err := rd.enterCustomers(); err != nil {
			return nil, err
		}
	}
	return rd, nil
}

// kind tells from the first bytes whether the input is a document, an array of customers,
// NDJSON, or empty. An object whose top-level keys include "customers" is a document.
func kind(head []byte) string {
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) == 0 {
		return "empty"
	}
	if trimmed[0] == '[' {
		return "array"
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "ndjson"
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "ndjson"
		}
		if key == "customers" {
			return "document"
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "ndjson" // the first object is longer than the peek: a customer
		}
	}
	return "ndjson"
}

// enterCustomers moves a document's decoder to the first element of "customers", skipping
// any other keys before it.
func (r *Reader) enterCustomers() error {
	if _, err := r.dec.Token(); err != nil { // {
		return syntaxErr(err)
	}
	for r.dec.More() {
		key, err := r.dec.Token()
		if err != nil {
			return syntaxErr(err)
		}
		if key == "customers" {
			t, err := r.dec.Token()
			if err != nil {
				return syntaxErr(err)
			}
			if t != json.Delim('[') {
				return fmt.Errorf("customers: want an array, got %v", t)
			}
			r.doc = true
			return nil
		}
		var skip json.RawMessage
		if err := r.dec.Decode(&skip); err != nil {
			return syntaxErr(err)
		}
	}
	return errors.New(`the document has no "customers" array`)
}

func newDecoder(in io.Reader) *json.Decoder {
	dec := json.NewDecoder(in)
	dec.UseNumber()
	return dec
}

// decode hands the rest of NDJSON, after pending, to a decoder, keeping count of its lines.
func (r *Reader) decode(pending []byte) {
	r.decLine = &lineEnds{r: io.MultiReader(bytes.NewReader(pending), r.br), before: r.ends}
	r.dec = newDecoder(r.decLine)
}

// Next returns the next customer, or io.EOF after the last.
func (r *Reader) Next() (json.RawMessage, error) {
	r.decoded = nil
	if r.done {
		return nil, io.EOF
	}
	if r.dec == nil {
		if raw, ok, err := r.nextLine(); ok || err != nil {
			return raw, err
		}
	}
	if r.doc && !r.dec.More() {
		r.done = true
		return nil, io.EOF // the rest of the document is not needed
	}
	r.start = r.skipped + r.lines + r.dec.InputOffset()
	var raw json.RawMessage
	if err := r.dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) && !r.doc {
			r.done = true
			return nil, io.EOF
		}
		return nil, fmt.Errorf("customer %d: %w", r.n+1, syntaxErr(err))
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("customer %d: want a JSON object, got %.20s", r.n+1, raw)
	}
	if r.decodeFn != nil {
		if c, ok := r.decodeFn(raw); ok {
			r.decoded = c
		}
	}
	if r.decLine != nil {
		r.line = r.decLine.lineOf(r.dec.InputOffset() - int64(len(raw)))
	}
	r.n++
	return raw, nil
}

// nextLine reads the next NDJSON line holding one whole object, passing over blank lines.
// At any other line it hands that line and the rest to the decoder and reports !ok.
func (r *Reader) nextLine() (raw json.RawMessage, ok bool, err error) {
	for {
		line, err := r.br.ReadSlice('\n')
		if errors.Is(err, io.EOF) && len(line) == 0 {
			r.done = true
			return nil, false, io.EOF
		}
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, false, err // a failed read, which bufio would not report again
		}
		v := bytes.Trim(line, " \t\r\n")
		if errors.Is(err, bufio.ErrBufferFull) || len(v) > 0 && !r.accept(v) {
			r.decoded = nil
			r.decode(bytes.Clone(line))
			return nil, false, nil
		}
		start, lineNo := r.skipped+r.lines, r.ends+1
		r.lines += int64(len(line))
		if line[len(line)-1] == '\n' {
			r.ends++
		}
		if len(v) > 0 {
			r.start, r.line = start, lineNo
			r.n++
			return bytes.Clone(v), true, nil
		}
	}
}

func syntaxErr(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// lineEnds passes a reader through, noting where its lines end, so that the line of an offset
// read through it can be told.
type lineEnds struct {
	r      io.Reader
	off    int64   // the offset of the next byte to read
	at     []int64 // the offsets of the line ends read that lineOf has not passed yet
	before int     // the line ends before at[0], or before off when at is empty
}

func (l *lineEnds) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, b := 0, p[:n]; ; {
		k := bytes.IndexByte(b[i:], '\n')
		if k < 0 {
			break
		}
		l.at = append(l.at, l.off+int64(i+k))
		i += k + 1
	}
	l.off += int64(n)
	return n, err
}

// lineOf is the line (from 1) of the byte at offset, which must be no smaller than the offset
// of the call before.
func (l *lineEnds) lineOf(offset int64) int {
	k := 0
	for k < len(l.at) && l.at[k] < offset {
		k++
	}
	l.before += k
	l.at = l.at[k:]
	return l.before + 1
}
