package middleware

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkStrictJSON prices the duplicate-key and trailing-data check on an ingest of 1,000
// customers against the decoding the transport does anyway, to show what the check adds.
func BenchmarkStrictJSON(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"query":"mutation($c:[CustomerInput!]!){x}","variables":{"c":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"sourceCustomerId":"C%d","organizationId":"O1","postalCode":"78753","country":"US",`+
			`"accounts":[{"sourceAccountId":"A%d","sourceCustomerIds":["C%d"],"cards":[{"last4":"1234","iin":"412345","networkIdentifier":4}]}]}`, i, i, i)
	}
	sb.WriteString("]}}")
	data := []byte(sb.String())
	b.Run("check", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if msg := ambiguity(data, "request", true); msg != "" {
				b.Fatal(msg)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
