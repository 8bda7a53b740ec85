package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// The POST and GET transports follow the GraphQL-over-HTTP specification
// (graphql.github.io/graphql-over-http):
//
//   - a request that is not a well-formed GraphQL-over-HTTP request (a body that is not a JSON
//     object, a parameter of the wrong type, no query) is 400 BAD_USER_INPUT, whatever the
//     client accepts;
//   - a request error (the document does not parse or validate, variables do not coerce, a
//     limit is exceeded, a persisted query is unknown) is answered without a "data" entry, with
//     200 when the client asked for application/json (or sent no Accept: the spec's legacy
//     rule) and 400 when it asked for application/graphql-response+json; FORBIDDEN (a document
//     the caller may not run) is 403 either way;
//   - an executed operation is 200 (503 when the database could serve nothing, see
//     markUnavailable).
//
// An executed operation's answer is written around its data as the executor produced it,
// instead of through json.Marshal, which copies the whole data and re-validates it byte by
// byte (a sizeable share of a large answer's cost). The bytes sent are the same: the executor
// writes compact JSON, and data holding a character json.Marshal would escape (<, >, &,
// U+2028, U+2029) still goes through json.Marshal.
type postTransport struct{ transport.POST }

// getTransport is GET under the same rules, for queries only.
type getTransport struct{ transport.GET }

// requestParams are the members of a GraphQL-over-HTTP request: graphql.RawParams and the
// persisted documents' documentId.
type requestParams struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
	DocumentID    string         `json:"documentId"`
}

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	body, err := heldBody(r.Body)
	if err != nil {
		badRequest(w, r, exec, "the request body could not be read")
		return
	}
	var p requestParams
	if !p.decodeSimple(body) { // request.go
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil {
			badRequest(w, r, exec, decodeProblem(err))
			return
		}
	}
	serve(w, r, exec, p, start, false)
}

func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		badRequest(w, r, exec, "the query string could not be read: "+err.Error())
		return
	}
	p := requestParams{Query: q.Get("query"), OperationName: q.Get("operationName"), DocumentID: q.Get("documentId")}
	for name, into := range map[string]*map[string]any{"variables": &p.Variables, "extensions": &p.Extensions} {
		if v := q.Get(name); v != "" {
			dec := json.NewDecoder(strings.NewReader(v))
			dec.UseNumber()
			if dec.Decode(into) != nil {
				badRequest(w, r, exec, fmt.Sprintf("the %s parameter must be a JSON object", name))
				return
			}
		}
	}
	serve(w, r, exec, p, start, true)
}

// documentIDPattern is a persisted document's id: its SHA-256, optionally prefixed.
var documentIDPattern = regexp.MustCompile(`^(sha256:)?[0-9a-fA-F]{64}$`)

// serve runs a decoded request and writes its answer.
func serve(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, p requestParams, start time.Time, get bool) {
	if p.DocumentID != "" {
		if !documentIDPattern.MatchString(p.DocumentID) {
			badRequest(w, r, exec, `"documentId" must be the document's SHA-256 in hex, optionally prefixed with "sha256:"`)
			return
		}
		if p.Extensions == nil {
			p.Extensions = map[string]any{}
		}
		if p.Extensions["persistedQuery"] == nil {
			// The same look-up as an automatic persisted query's hash.
			hash := strings.ToLower(strings.TrimPrefix(p.DocumentID, "sha256:"))
			p.Extensions["persistedQuery"] = map[string]any{"version": 1, "sha256Hash": hash}
		}
	}
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		badRequest(w, r, exec, `the request has no query: send the GraphQL document as "query"`)
		return
	}
	params := &graphql.RawParams{
		Query: p.Query, OperationName: p.OperationName, Variables: p.Variables, Extensions: p.Extensions,
		Headers: r.Header, ReadTime: graphql.TraceTiming{Start: start, End: graphql.Now()},
	}
	ctx := r.Context()
	contentType := responseContentType(r)
	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr)
		writeRequestError(w, contentType, requestErrorStatus(contentType, resp.Errors), resp)
		return
	}
	if get && rc.Operation.Operation != ast.Query {
		w.Header().Set("Allow", "POST")
		writeRequestError(w, contentType, http.StatusMethodNotAllowed, exec.DispatchError(ctx, gqlerror.List{{
			Message:    "GET may only run queries: send a " + string(rc.Operation.Operation) + " with POST",
			Extensions: map[string]any{"code": string(models.ErrBadUserInput)},
		}}))
		return
	}
	w.Header().Set("Content-Type", contentType)
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// decodeProblem says what is wrong with a body that did not decode into requestParams,
// without echoing it.
func decodeProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "the request body is empty: send a JSON object with the GraphQL document as \"query\""
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return "the request body must be a JSON object, not " + typeErr.Value
	case errors.As(err, &typeErr):
		want := "a string"
		if typeErr.Type.Kind().String() == "map" {
			want = "an object"
		}
		return fmt.Sprintf("%q must be %s (or null), not %s", typeErr.Field, want, typeErr.Value)
	}
	return "the request body is not valid JSON: " + err.Error()
}

// requestErrorStatus is the HTTP status of an answer refused before execution.
func requestErrorStatus(contentType string, errs gqlerror.List) int {
	for _, e := range errs {
		if e.Extensions["code"] == string(models.ErrForbidden) {
			return http.StatusForbidden
		}
	}
	if contentType == graphqlResponseJSON {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// badRequest answers a request that is not a well-formed GraphQL-over-HTTP request: 400
// BAD_USER_INPUT whatever the client accepts.
func badRequest(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, msg string) {
	resp := exec.DispatchError(r.Context(), gqlerror.List{{Message: msg, Extensions: map[string]any{"code": string(models.ErrBadUserInput)}}})
	writeRequestError(w, responseContentType(r), http.StatusBadRequest, resp)
}

// writeRequestError writes an answer without data: its errors and extensions.
func writeRequestError(w http.ResponseWriter, contentType string, status int, resp *graphql.Response) {
	b, err := json.Marshal(struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
	if err != nil {
		panic(err) // errors and extensions always marshal
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

const (
	applicationJSON     = "application/json"
	graphqlResponseJSON = "application/graphql-response+json"
)

// responseContentType is the media type of the answer, from the Accept header: the first of
// application/json and application/graphql-response+json it names, application/json for
// */*, application/* or no Accept at all (the specification's rule for legacy clients), else
// application/graphql-response+json.
func responseContentType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return applicationJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", applicationJSON:
			return applicationJSON
		case graphqlResponseJSON:
			return graphqlResponseJSON
		}
	}
	return graphqlResponseJSON
}

// writeResponse writes resp as json.Marshal would, without copying its data.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if resp == nil || len(resp.Data) == 0 || jsonWouldEscape(resp.Data) {
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

// jsonWouldEscape tells whether data holds a character json.Marshal writes escaped: <, >, &,
// U+2028 or U+2029. Each is looked for with IndexByte, which is vectorised; ContainsAny with
// a set of five was a fifth of the server's CPU on a 100 KB answer.
func jsonWouldEscape(data []byte) bool {
	if bytes.IndexByte(data, '<') >= 0 || bytes.IndexByte(data, '>') >= 0 || bytes.IndexByte(data, '&') >= 0 {
		return true
	}
	for b := data; ; {
		i := bytes.IndexByte(b, 0xE2) // U+2028 and U+2029 are E2 80 A8 and E2 80 A9
		if i < 0 || i+2 >= len(b) {
			return false
		}
		if b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9) {
			return true
		}
		b = b[i+1:]
	}
}
