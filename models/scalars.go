package models

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// ParseDateTime reads the API's DateTime: RFC 3339 with an offset, or a plain YYYY-MM-DD
// meaning midnight UTC. A date-time without an offset is ambiguous and rejected. The result
// is in UTC, truncated to microseconds so that both stores keep exactly what was sent and an
// identical re-ingest compares equal.
//
// The UTC value must fall within years 0001-9999, the years RFC 3339 can write: an offset can
// move a date-time at either end of that range out of it (9999-12-31T23:59:59-10:00 is in year
// 10000 in UTC), and the API could not return such a value in a form it accepts.
func ParseDateTime(s string) (time.Time, error) {
	upper := strings.ToUpper(s) // RFC 3339 allows a lower-case t and z
	t, err := time.Parse(time.RFC3339Nano, upper)
	if err == nil {
		t = t.UTC().Truncate(time.Microsecond)
	} else if t, err = time.Parse(time.DateOnly, upper); err != nil {
		return time.Time{}, fmt.Errorf("%s is not a date-time: want RFC 3339 with an offset (2023-01-01T08:00:00Z) or a date (2023-01-01)", Quote(s))
	}
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("%s is outside years 0001-9999 in UTC (%d), which is the range of a DateTime", Quote(s), y)
	}
	return t, nil
}

// FormatDateTime writes a time the way the API returns it: UTC with Z.
func FormatDateTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// MarshalDateTime is gqlgen's marshaller for the DateTime scalar.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(FormatDateTime(t)))
	})
}

// UnmarshalDateTime is gqlgen's unmarshaller for the DateTime scalar.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("a DateTime is a string, got %s", jsonKind(v))
	}
	return ParseDateTime(s)
}

// MarshalIntOrString writes the IntOrString scalar as a JSON number.
func MarshalIntOrString(i int) graphql.Marshaler {
	return graphql.MarshalInt(i)
}

// UnmarshalIntOrString accepts a JSON number or a string of decimal digits, because publisher
// files send networkIdentifier either way ("3" in the reference example).
func UnmarshalIntOrString(v any) (int, error) {
	if x, ok := v.(string); ok {
		return parseDigits(x)
	}
	return UnmarshalStrictInt(v)
}

func parseDigits(s string) (int, error) {
	t := strings.TrimPrefix(s, "-")
	if t == "" || strings.Trim(t, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return int(n), nil
}

func checkInt32(f float64) (int, error) {
	if f < math.MinInt32 || f > math.MaxInt32 {
		return 0, fmt.Errorf("%v is out of range", f)
	}
	return int(f), nil
}

// The built-in String and Int scalars are bound to these strict versions: the contract
// (REFERENCE.md) makes "a string where a number belongs" (and a number where a string belongs)
// a request error, while gqlgen's defaults quietly convert one into the other.

// MarshalStrictString writes a String.
func MarshalStrictString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalStrictString accepts only a string.
func UnmarshalStrictString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("want a string, got %s", jsonKind(v))
}

// MarshalStrictInt writes an Int.
func MarshalStrictInt(i int) graphql.Marshaler { return graphql.MarshalInt(i) }

// UnmarshalStrictInt accepts only a whole number within the 32 bits GraphQL's Int has.
func UnmarshalStrictInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return checkInt32(float64(x))
	case int32:
		return int(x), nil
	case int64:
		return checkInt32(float64(x))
	case float64:
		if x != math.Trunc(x) {
			return 0, fmt.Errorf("%v is not a whole number", x)
		}
		return checkInt32(x)
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is not a whole number", x)
		}
		return checkInt32(float64(n))
	default:
		return 0, fmt.Errorf("want a whole number, got %s", jsonKind(v))
	}
}

// jsonKind names the JSON type of a decoded value, for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	default:
		return "a number"
	}
}
