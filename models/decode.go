package models

import (
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// InputDecoder reads customers of a publisher file straight into the CustomerInput the
// GraphQL layer would build from the same JSON (gqlparser's variable validation, then gqlgen's
// unmarshalling), without going through decoded maps. It takes only the plain shape of the
// publisher's JSON: known keys, each at most once and unescaped, with a value of the JSON type
// its field has or null, lists without nulls, enum values the schema lists, dates
// ParseDateTime reads and network identifiers UnmarshalIntOrString reads. Anything else
// (which the GraphQL layer would refuse, coerce or ignore: a string for a list, __typename, a
// date without an offset, a number for a string, ...) makes Decode report false, so that the
// caller sends that customer's batch through the GraphQL layer, which reports it as it always
// has.
//
// The JSON must have been through the GraphQL layer's rewrite of invalid text (invalid UTF-8
// and unpaired surrogates become InvalidTextMarker), as the GraphQL path's is.
type InputDecoder struct {
	dec    *jsontext.Decoder
	rd     *bytes.Reader // dec's input, the customer being decoded
	failed bool
	// texts and dates keep values seen before of the fields whose values repeat across a file
	// (enum values, countries, organizations, portfolios, dates), so that a repeated value is
	// neither allocated nor parsed again. Each keeps at most maxKept values of at most
	// maxKeptLen bytes.
	texts map[string]string
	dates map[string]time.Time
}

const (
	maxKept    = 4096
	maxKeptLen = 40
)

// NewInputDecoder returns a decoder; it is not safe for concurrent use.
func NewInputDecoder() *InputDecoder {
	rd := bytes.NewReader(nil)
	return &InputDecoder{dec: jsontext.NewDecoder(rd), rd: rd, texts: map[string]string{}, dates: map[string]time.Time{}}
}

// Decode reads one customer object; ok is false when the JSON is not of the plain shape
// above (see InputDecoder).
func (d *InputDecoder) Decode(raw []byte) (c *CustomerInput, ok bool) {
	d.rd.Reset(raw)
	// A decoder kept for later (in a pool) must not keep raw, nor the request body raw is
	// part of: the body would stay in memory until the decoder is used again.
	defer d.rd.Reset(nil)
	d.dec.Reset(d.rd, jsontext.AllowDuplicateNames(false), jsontext.AllowInvalidUTF8(false))
	d.failed = false
	c = d.customer()
	if d.failed {
		return nil, false
	}
	if _, err := d.dec.ReadToken(); err != io.EOF {
		return nil, false // more than one value, or anything else after the object
	}
	return c, true
}

func (d *InputDecoder) fail() { d.failed = true }

// object reads an object, calling member for each key (valid until the next read) with the
// decoder positioned at the member's value, which member must read.
func (d *InputDecoder) object(member func(key []byte)) {
	if d.dec.PeekKind() != '{' {
		d.fail()
		return
	}
	if _, err := d.dec.ReadToken(); err != nil {
		d.fail()
		return
	}
	for !d.failed && d.dec.PeekKind() != '}' {
		key, err := d.dec.ReadValue()
		if err != nil || len(key) < 2 || key[0] != '"' || bytes.IndexByte(key, '\\') >= 0 {
			d.fail()
			return
		}
		member(key[1 : len(key)-1])
	}
	if d.failed {
		return
	}
	if _, err := d.dec.ReadToken(); err != nil {
		d.fail()
	}
}

// null reads a null if one comes next.
func (d *InputDecoder) null() bool {
	if d.dec.PeekKind() != 'n' {
		return false
	}
	if _, err := d.dec.ReadToken(); err != nil {
		d.fail()
	}
	return true
}

// quoted reads a string (not null) as JSON, quotes included; plain tells that it has no escape,
// so that its text is the bytes between the quotes.
func (d *InputDecoder) quoted() (v []byte, plain bool) {
	if d.dec.PeekKind() != '"' {
		d.fail()
		return nil, false
	}
	v, err := d.dec.ReadValue()
	if err != nil {
		d.fail()
		return nil, false
	}
	return v, bytes.IndexByte(v, '\\') < 0
}

// unquote is the text of a string read by quoted.
func (d *InputDecoder) unquote(v []byte, plain bool) string {
	if plain {
		return string(v[1 : len(v)-1])
	}
	s, err := jsontext.AppendUnquote(nil, v)
	if err != nil {
		d.fail()
		return ""
	}
	return string(s)
}

// text reads a string (not null).
func (d *InputDecoder) text() string {
	v, plain := d.quoted()
	if d.failed {
		return ""
	}
	return d.unquote(v, plain)
}

// shared reads a string (not null) of a field whose values repeat: a value kept before is
// returned without allocating it again.
func (d *InputDecoder) shared() string {
	v, plain := d.quoted()
	if d.failed {
		return ""
	}
	if !plain || len(v)-2 > maxKeptLen {
		return d.unquote(v, plain)
	}
	raw := v[1 : len(v)-1]
	if s, ok := d.texts[string(raw)]; ok {
		return s
	}
	s := string(raw)
	if len(d.texts) < maxKept {
		d.texts[s] = s
	}
	return s
}

// str reads a String field: a string or null.
func (d *InputDecoder) str() *string {
	if d.null() {
		return nil
	}
	s := d.text()
	return &s
}

// sharedStr reads a String field whose values repeat (shared): a string or null.
func (d *InputDecoder) sharedStr() *string {
	if d.null() {
		return nil
	}
	s := d.shared()
	return &s
}

// list reads a list whose items are not null, or null (nil); an empty list is empty, not nil.
func list[T any](d *InputDecoder, item func() T) []T {
	if d.null() {
		return nil
	}
	if d.dec.PeekKind() != '[' {
		d.fail()
		return nil
	}
	if _, err := d.dec.ReadToken(); err != nil {
		d.fail()
		return nil
	}
	out := []T{}
	for !d.failed && d.dec.PeekKind() != ']' {
		if d.dec.PeekKind() == 'n' {
			d.fail()
			return nil
		}
		out = append(out, item())
	}
	if _, err := d.dec.ReadToken(); err != nil {
		d.fail()
	}
	return out
}

// enumValue reads an enum value the schema lists.
func enumValue[E interface {
	~string
	IsValid() bool
}](d *InputDecoder) E {
	e := E(d.shared())
	if !e.IsValid() {
		d.fail()
	}
	return e
}

// enum reads an enum field: a value the schema lists, or null.
func enum[E interface {
	~string
	IsValid() bool
}](d *InputDecoder) *E {
	if d.null() {
		return nil
	}
	e := enumValue[E](d)
	return &e
}

// date reads a DateTime field: a string ParseDateTime reads, or null. A date read before is
// not parsed again.
func (d *InputDecoder) date() *time.Time {
	if d.null() {
		return nil
	}
	v, plain := d.quoted()
	if d.failed {
		return nil
	}
	keep := plain && len(v)-2 <= maxKeptLen
	if keep {
		if t, ok := d.dates[string(v[1:len(v)-1])]; ok {
			return &t
		}
	}
	s := d.unquote(v, plain)
	t, err := ParseDateTime(s)
	if err != nil {
		d.fail()
		return nil
	}
	if keep && len(d.dates) < maxKept {
		d.dates[s] = t
	}
	return &t
}

// intOrString reads an IntOrString field: a number or a string UnmarshalIntOrString reads,
// or null. A number is passed on as the json.Number the GraphQL path decodes it to.
func (d *InputDecoder) intOrString() *int {
	if d.null() {
		return nil
	}
	var v any
	switch d.dec.PeekKind() {
	case '"':
		v = d.text()
	case '0':
		raw, err := d.dec.ReadValue()
		if err != nil {
			d.fail()
			return nil
		}
		v = json.Number(raw)
	default:
		d.fail()
		return nil
	}
	n, err := UnmarshalIntOrString(v)
	if err != nil {
		d.fail()
		return nil
	}
	return &n
}

func (d *InputDecoder) customer() *CustomerInput {
	c := &CustomerInput{}
	d.object(func(key []byte) {
		switch string(key) {
		case "sourceCustomerId":
			c.SourceCustomerID = d.str()
		case "sourceParentCustomerId":
			c.SourceParentCustomerID = d.str()
		case "organizationId":
			c.OrganizationID = d.sharedStr()
		case "postalCode":
			c.PostalCode = d.str()
		case "country":
			c.Country = d.sharedStr()
		case "customerCreationDate":
			c.CustomerCreationDate = d.date()
		case "enrollmentStartDate":
			c.EnrollmentStartDate = d.date()
		case "enrollmentEndDate":
			c.EnrollmentEndDate = d.date()
		case "enrollmentOptInStatus":
			c.EnrollmentOptInStatus = enum[EnrollmentOptInStatus](d)
		case "alertOptInStatus":
			c.AlertOptInStatus = list(d, func() AlertOptInStatus { return enumValue[AlertOptInStatus](d) })
		case "targetingIndicator":
			c.TargetingIndicator = enum[CustomerTargetingIndicator](d)
		case "redemptionEligibility":
			c.RedemptionEligibility = enum[RedemptionEligibility](d)
		case "accounts":
			c.Accounts = list(d, d.account)
		default:
			d.fail()
		}
	})
	return c
}

func (d *InputDecoder) account() *AccountInput {
	a := &AccountInput{}
	d.object(func(key []byte) {
		switch string(key) {
		case "sourceAccountId":
			a.SourceAccountID = d.str()
		case "sourceCustomerIds":
			a.SourceCustomerIds = list(d, d.text)
		case "primarySourceCustomerId":
			a.PrimarySourceCustomerID = d.str()
		case "status":
			a.Status = enum[AccountStatus](d)
		case "type":
			a.Type = enum[AccountType](d)
		case "sourcePortfolioId":
			a.SourcePortfolioID = d.sharedStr()
		case "accountOpenDate":
			a.AccountOpenDate = d.date()
		case "accountCloseDate":
			a.AccountCloseDate = d.date()
		case "cards":
			a.Cards = list(d, d.card)
		default:
			d.fail()
		}
	})
	return a
}

func (d *InputDecoder) card() *CardInput {
	c := &CardInput{}
	d.object(func(key []byte) {
		switch string(key) {
		case "sourceAccountId":
			c.SourceAccountID = d.str()
		case "sourceCustomerId":
			c.SourceCustomerID = d.str()
		case "last4":
			c.Last4 = d.str()
		case "iin":
			c.Iin = d.str()
		case "cardType":
			c.CardType = enum[CardType](d)
		case "status":
			c.Status = enum[CardStatus](d)
		case "networkIdentifier":
			c.NetworkIdentifier = d.intOrString()
		case "openDate":
			c.OpenDate = d.date()
		case "closeDate":
			c.CloseDate = d.date()
		default:
			d.fail()
		}
	})
	return c
}
