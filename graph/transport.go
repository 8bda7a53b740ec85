package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
)

// postTransport is gqlgen's POST transport with one difference: an executed operation's answer
// is written around its data as the executor produced it, instead of through json.Marshal,
// which copies the whole data and re-validates it byte by byte (a sizeable share of a large
// answer's cost). The bytes sent are the same: the executor writes compact JSON, and data
// holding a character json.Marshal would escape (<, >, &, U+2028, U+2029) still goes through
// json.Marshal. Everything else (requests that fail before execution) is POST's own doing.
type postTransport struct{ transport.POST }

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), failingReader{err}))
		t.POST.Do(w, r, exec) // answers the read error the way POST does
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&params) != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		t.POST.Do(w, r, exec) // answers the decoding error the way POST does
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	ctx := r.Context()
	rc, opErr := exec.CreateOperationContext(ctx, &params)
	if opErr != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		t.POST.Do(w, r, exec) // answers the document's errors the way POST does
		return
	}
	w.Header().Add("Content-Type", responseContentType(r))
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// failingReader replays a read error.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// responseContentType is POST's choice of media type from the Accept header.
func responseContentType(r *http.Request) string {
	const plain, graphqlJSON = "application/json", "application/graphql-response+json"
	accept := r.Header.Get("Accept")
	if accept == "" {
		return plain
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", plain:
			return plain
		case graphqlJSON:
			return graphqlJSON
		}
	}
	return graphqlJSON
}

// writeResponse writes resp as json.Marshal would, without copying its data.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if resp == nil || len(resp.Data) == 0 || bytes.ContainsAny(resp.Data, "<>&\u2028\u2029") {
		b, err := json.Marshal(resp)
		if err != nil {
			panic(err) // as POST does: the executor's answer always marshals
		}
		_, _ = w.Write(b)
		return
	}
	var head bytes.Buffer
	head.WriteByte('{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			panic(err)
		}
		head.WriteString(`"errors":`)
		head.Write(errs)
		head.WriteByte(',')
	}
	head.WriteString(`"data":`)
	tail, err := json.Marshal(responseTail{Label: resp.Label, Path: resp.Path, HasNext: resp.HasNext, Extensions: resp.Extensions})
	if err != nil {
		panic(err)
	}
	if len(tail) > 2 { // more than {}
		tail[0] = ','
	} else {
		tail = tail[1:]
	}
	_, _ = w.Write(head.Bytes())
	_, _ = w.Write(resp.Data)
	_, _ = w.Write(tail)
}

// responseTail is graphql.Response after its data, in its field order.
type responseTail struct {
	Label      string         `json:"label,omitempty"`
	Path       ast.Path       `json:"path,omitempty"`
	HasNext    *bool          `json:"hasNext,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}
