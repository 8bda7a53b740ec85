package models

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The rules of the data beyond types (REFERENCE.md, "Data" and "Problems in the input"). Every problem is reported with the JSON path of the
// field it concerns and one of the codes of REFERENCE.md ("Problems in the input"); validation never stops
// at the first problem. A rule between two fields is reported at the later one.

// MaxIDLength is the longest identifier (customer, account, portfolio, organization), in
// characters.
const MaxIDLength = 120

// MaxPostalCodeLength is the longest postal code, in characters.
const MaxPostalCodeLength = 16

// The lists of a customer tree are bounded, so that validating (and writing) any batch takes
// work linear in its size: a longer list is a LIMIT_EXCEEDED problem at the list's path, found
// before any of its items is looked at.
const (
	// MaxAccountsPerCustomer bounds a customer's accounts.
	MaxAccountsPerCustomer = 1000
	// MaxHoldersPerAccount bounds an account's sourceCustomerIds.
	MaxHoldersPerAccount = 100
	// MaxCardsPerAccount bounds the cards of one occurrence of an account.
	MaxCardsPerAccount = 1000
	// MaxAlertValues bounds the values of alertOptInStatus (duplicates included, before they
	// collapse).
	MaxAlertValues = 100
)

// problems collects user errors.
type problems []UserError

func (p *problems) add(path at, code UserErrorCode, format string, args ...any) {
	*p = append(*p, UserError{Path: path.String(), Code: code, Message: fmt.Sprintf(format, args...)})
}

// at is the JSON path of a value being checked: a root (its text) and then member names and
// list indexes, each step pointing at the one before. It becomes text only when a problem is
// reported there, so checking a valid batch builds no path at all.
type at struct {
	parent *at
	name   string // a member name, or the root's text
	i      int    // a list index, when index
	index  bool
}

// pathAt is a root path, such as "patch.country" ("" for none).
func pathAt(s string) at { return at{name: s} }

// field is the path of member name of the value at a.
func (a *at) field(name string) at { return at{parent: a, name: name} }

// item is the path of element i of the list at a.
func (a *at) item(i int) at { return at{parent: a, i: i, index: true} }

func (a at) String() string { return string(a.appendTo(make([]byte, 0, 64))) }

func (a *at) appendTo(b []byte) []byte {
	if a.parent != nil {
		b = a.parent.appendTo(b)
	}
	if a.index {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(a.i), 10)
		return append(b, ']')
	}
	if len(b) > 0 && a.name != "" {
		b = append(b, '.')
	}
	return append(b, a.name...)
}

// Quote shows a value in a message, quoted and cut so that a huge input is not echoed back
// whole.
func Quote(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		s = string(r[:40]) + "…"
	}
	return strconv.Quote(s)
}

// tooMany reports a list longer than max at its path.
func (p *problems) tooMany(path at, what string, n, max int) bool {
	if n > max {
		p.add(path, UserErrorCodeLimitExceeded, "at most %d %s are allowed, got %d", max, what, n)
		return true
	}
	return false
}

// ValidID reports whether v satisfies the identifier rules, so that it may be stored.
func ValidID(v string) bool {
	var p problems
	return p.checkID(at{}, "", v)
}

// checkID applies the identifier rules: 1-120 characters of valid text (TextProblem), no
// leading or trailing space, no control characters.
func (p *problems) checkID(path at, name, v string) bool {
	n := len(*p)
	switch {
	case v == "":
		p.add(path, UserErrorCodeInvalidValue, "%s must not be empty", name)
	case TextProblem(v) != "":
		p.add(path, UserErrorCodeInvalidFormat, "%s %s", name, TextProblem(v))
	case utf8.RuneCountInString(v) > MaxIDLength:
		p.add(path, UserErrorCodeTooLong, "%s must be at most %d characters, got %d", name, MaxIDLength, utf8.RuneCountInString(v))
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		p.add(path, UserErrorCodeInvalidFormat, "%s must not contain control characters", name)
	case strings.TrimSpace(v) != v:
		p.add(path, UserErrorCodeInvalidFormat, "%s must not start or end with white space", name)
	}
	return len(*p) == n
}

// requiredID checks a required identifier.
func (p *problems) requiredID(path at, name string, v *string) bool {
	if v == nil {
		p.add(path, UserErrorCodeRequired, "%s is required", name)
		return false
	}
	return p.checkID(path, name, *v)
}

func (p *problems) required(path at, name string, present bool) bool {
	if !present {
		p.add(path, UserErrorCodeRequired, "%s is required", name)
	}
	return present
}

func (p *problems) checkPostalCode(path at, v string) {
	switch {
	case v == "":
		p.add(path, UserErrorCodeInvalidValue, "postalCode must not be empty")
	case utf8.RuneCountInString(v) > MaxPostalCodeLength:
		p.add(path, UserErrorCodeTooLong, "postalCode must be at most %d characters, got %d", MaxPostalCodeLength, utf8.RuneCountInString(v))
	case strings.IndexFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ' || r == '-')
	}) >= 0:
		p.add(path, UserErrorCodeInvalidFormat, "postalCode may hold only letters, digits, spaces and hyphens, got %s", Quote(v))
	}
}

// checkCountry accepts an assigned ISO 3166-1 alpha-2 code in either case.
func (p *problems) checkCountry(path at, v string) {
	if len(v) != 2 || !isLetter(v[0]) || !isLetter(v[1]) {
		p.add(path, UserErrorCodeInvalidFormat, "country must be an ISO 3166-1 alpha-2 code of two letters, got %s", Quote(v))
		return
	}
	if !IsCountry(strings.ToUpper(v)) {
		p.add(path, UserErrorCodeInvalidValue, "country %s is not an assigned ISO 3166-1 alpha-2 code", Quote(v))
	}
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (p *problems) checkAlerts(path at, v []AlertOptInStatus) {
	if len(v) == 0 {
		p.add(path, UserErrorCodeInvalidValue, "alertOptInStatus must hold at least one value")
		return
	}
	if p.tooMany(path, "alertOptInStatus values", len(v), MaxAlertValues) {
		return
	}
	all := false
	for i, a := range v {
		if !a.IsValid() {
			p.add(path.item(i), UserErrorCodeInvalidValue, "%s is not an alert opt-in status", Quote(string(a)))
		}
		all = all || a == AlertOptInStatusAll
	}
	if all && len(normalizeAlerts(v)) > 1 {
		p.add(path, UserErrorCodeInvalidValue, "ALL may not be combined with other alert opt-in statuses")
	}
}

// normalizeAlerts collapses duplicates and orders the values as the enum does, so that the
// same set is always stored the same way.
func normalizeAlerts(v []AlertOptInStatus) []AlertOptInStatus {
	out := make([]AlertOptInStatus, 0, len(v))
	for _, a := range AllAlertOptInStatus {
		if slices.Contains(v, a) {
			out = append(out, a)
		}
	}
	return out
}

// Last4Problem describes why v is not a card's last4 (exactly 4 digits), or returns "" when it
// is one. The rule holds for stored cards and for the values that select them (CardFilter).
func Last4Problem(v string) string {
	if len(v) != 4 || !isDigits(v) {
		return "must be exactly 4 digits, got " + Quote(v)
	}
	return ""
}

// IINProblem describes why v is not a card's IIN (exactly 6 or 8 digits), or returns "" when
// it is one, as Last4Problem does.
func IINProblem(v string) string {
	if (len(v) != 6 && len(v) != 8) || !isDigits(v) {
		return "must be exactly 6 or 8 digits, got " + Quote(v)
	}
	return ""
}

func (p *problems) checkLast4(path at, v string) {
	if problem := Last4Problem(v); problem != "" {
		p.add(path, UserErrorCodeInvalidFormat, "last4 %s", problem)
	}
}

func (p *problems) checkIIN(path at, v string) bool {
	if problem := IINProblem(v); problem != "" {
		p.add(path, UserErrorCodeInvalidFormat, "iin %s", problem)
		return false
	}
	return true
}

func (p *problems) checkNetwork(path at, v int) bool {
	if v < 3 || v > 6 {
		p.add(path, UserErrorCodeInvalidValue, "networkIdentifier must be 3 (American Express), 4 (Visa), 5 (Mastercard) or 6 (Discover), got %d", v)
		return false
	}
	return true
}

// checkNetworkMatchesIIN reports a network identifier that contradicts an IIN starting 3-6.
func (p *problems) checkNetworkMatchesIIN(path at, iin string, network int) {
	if d := int(iin[0] - '0'); d >= 3 && d <= 6 && d != network {
		p.add(path, UserErrorCodeInvalidValue, "networkIdentifier %d contradicts iin %s, which belongs to network %d", network, iin, d)
	}
}

func checkEnum[T interface {
	~string
	IsValid() bool
}](p *problems, path at, name string, v *T) bool {
	if v == nil {
		p.add(path, UserErrorCodeRequired, "%s is required", name)
		return false
	}
	if !(*v).IsValid() {
		p.add(path, UserErrorCodeInvalidValue, "%s is not a valid %s", Quote(string(*v)), name)
		return false
	}
	return true
}

func checkOptionalEnum[T interface {
	~string
	IsValid() bool
}](p *problems, path at, name string, v *T) {
	if v != nil && !(*v).IsValid() {
		p.add(path, UserErrorCodeInvalidValue, "%s is not a valid %s", Quote(string(*v)), name)
	}
}

func (p *problems) checkDateOrder(path at, name string, end time.Time, startName string, start time.Time) {
	if end.Before(start) {
		p.add(path, UserErrorCodeInconsistent, "%s (%s) must not be before %s (%s)", name, FormatDateTime(end), startName, FormatDateTime(start))
	}
}

// checkClosing applies the rules between a status and a close date: CLOSED needs a close date,
// OPEN may not have one, and a close date is not before the open date. Each is reported at
// the close date, the later field.
func (p *problems) checkClosing(closePath at, what string, closed, open bool, openDate time.Time, closeDate *time.Time, closeName, openName string) {
	switch {
	case closed && closeDate == nil:
		p.add(closePath, UserErrorCodeInconsistent, "%s is required when the %s's status is CLOSED", closeName, what)
	case open && closeDate != nil:
		p.add(closePath, UserErrorCodeInconsistent, "an OPEN %s may not have a %s; set status CLOSED, or clear %s to reopen it", what, closeName, closeName)
	case closeDate != nil:
		p.checkDateOrder(closePath, closeName, *closeDate, openName, openDate)
	}
}

// ValidateCustomers checks a batch of customer trees against every rule of the data (REFERENCE.md): each
// field, the rules between fields, and the rules across the batch (a customer twice, joint
// account occurrences that differ, a card twice with different data). invalid[i] tells whether
// customers[i] has any problem.
func ValidateCustomers(in []*CustomerInput) (errs []UserError, invalid []bool) {
	invalid = make([]bool, len(in))
	var all problems
	firstCustomer := map[string]int{}
	seen := map[string]*accountSeen{}
	cards := map[CardKey]*cardSeen{}
	customers := pathAt("customers")
	for i, c := range in {
		path := customers.item(i)
		var p problems
		if c == nil {
			p.add(path, UserErrorCodeRequired, "a customer may not be null")
		} else {
			accounts := validateCustomer(&p, path, c)
			if c.SourceCustomerID != nil {
				if first, ok := firstCustomer[*c.SourceCustomerID]; ok {
					p.add(path.field("sourceCustomerId"), UserErrorCodeDuplicate, "customer %s already appears at customers[%d]", Quote(*c.SourceCustomerID), first)
				} else {
					firstCustomer[*c.SourceCustomerID] = i
				}
			}
			crossAccounts(&p, i, accounts, seen, cards)
		}
		invalid[i] = len(p) > 0
		all = append(all, p...)
	}
	return all, invalid
}

// validateCustomer checks one customer tree. It returns its account occurrences, each nil when
// it has a problem, or nil when the accounts could not be looked at.
func validateCustomer(p *problems, path at, c *CustomerInput) (accounts []*accountChecked) {
	enclosing := c.SourceCustomerID
	if !p.requiredID(path.field("sourceCustomerId"), "sourceCustomerId", c.SourceCustomerID) {
		enclosing = nil // reported once, not again under every account
	}
	if c.SourceParentCustomerID != nil {
		at := path.field("sourceParentCustomerId")
		if p.checkID(at, "sourceParentCustomerId", *c.SourceParentCustomerID) &&
			c.SourceCustomerID != nil && *c.SourceParentCustomerID == *c.SourceCustomerID {
			p.add(at, UserErrorCodeInconsistent, "a customer cannot be its own parent")
		}
	}
	p.requiredID(path.field("organizationId"), "organizationId", c.OrganizationID)
	if at := path.field("postalCode"); p.required(at, "postalCode", c.PostalCode != nil) {
		p.checkPostalCode(at, *c.PostalCode)
	}
	if at := path.field("country"); p.required(at, "country", c.Country != nil) {
		p.checkCountry(at, *c.Country)
	}
	p.required(path.field("customerCreationDate"), "customerCreationDate", c.CustomerCreationDate != nil)
	p.required(path.field("enrollmentStartDate"), "enrollmentStartDate", c.EnrollmentStartDate != nil)
	if c.EnrollmentEndDate != nil && c.EnrollmentStartDate != nil {
		p.checkDateOrder(path.field("enrollmentEndDate"), "enrollmentEndDate", *c.EnrollmentEndDate, "enrollmentStartDate", *c.EnrollmentStartDate)
	}
	checkEnum(p, path.field("enrollmentOptInStatus"), "enrollmentOptInStatus", c.EnrollmentOptInStatus)
	if at := path.field("alertOptInStatus"); p.required(at, "alertOptInStatus", c.AlertOptInStatus != nil) {
		p.checkAlerts(at, c.AlertOptInStatus)
	}
	checkEnum(p, path.field("targetingIndicator"), "targetingIndicator", c.TargetingIndicator)
	checkOptionalEnum(p, path.field("redemptionEligibility"), "redemptionEligibility", c.RedemptionEligibility)
	at := path.field("accounts")
	if !p.required(at, "accounts", c.Accounts != nil) {
		return nil
	}
	if len(c.Accounts) == 0 {
		p.add(at, UserErrorCodeInvalidValue, "a customer must have at least one account")
	}
	if p.tooMany(at, "accounts per customer", len(c.Accounts), MaxAccountsPerCustomer) {
		return nil
	}
	accounts = make([]*accountChecked, len(c.Accounts))
	for j, a := range c.Accounts {
		accounts[j] = validateAccount(p, at.item(j), a, enclosing)
	}
	return accounts
}

// accountChecked is an account occurrence that has no problem of its own, with its holders as
// a set.
type accountChecked struct {
	in      *AccountInput
	holders map[string]bool
}

// validateAccount checks one account occurrence; it returns nil when the occurrence has a
// problem.
func validateAccount(p *problems, path at, a *AccountInput, enclosing *string) *accountChecked {
	if a == nil {
		p.add(path, UserErrorCodeRequired, "an account may not be null")
		return nil
	}
	n := len(*p)
	p.requiredID(path.field("sourceAccountId"), "sourceAccountId", a.SourceAccountID)
	holdersAt := path.field("sourceCustomerIds")
	holders, holdersOK := p.checkHolders(holdersAt, a.SourceCustomerIds)
	if holdersOK && enclosing != nil && !holders[*enclosing] {
		p.add(holdersAt, UserErrorCodeInconsistent, "sourceCustomerIds must contain the customer the account is listed under, %s", Quote(*enclosing))
	}
	if at := path.field("primarySourceCustomerId"); p.requiredID(at, "primarySourceCustomerId", a.PrimarySourceCustomerID) && holdersOK &&
		!holders[*a.PrimarySourceCustomerID] {
		p.add(at, UserErrorCodeInconsistent, "primarySourceCustomerId %s is not one of sourceCustomerIds", Quote(*a.PrimarySourceCustomerID))
	}
	statusOK := checkEnum(p, path.field("status"), "status", a.Status)
	checkEnum(p, path.field("type"), "type", a.Type)
	p.requiredID(path.field("sourcePortfolioId"), "sourcePortfolioId", a.SourcePortfolioID)
	if p.required(path.field("accountOpenDate"), "accountOpenDate", a.AccountOpenDate != nil) && statusOK {
		p.checkClosing(path.field("accountCloseDate"), "account", *a.Status == AccountStatusClosed, *a.Status == AccountStatusOpen,
			*a.AccountOpenDate, a.AccountCloseDate, "accountCloseDate", "accountOpenDate")
	}
	at := path.field("cards")
	if p.required(at, "cards", a.Cards != nil) && !p.tooMany(at, "cards per account", len(a.Cards), MaxCardsPerAccount) {
		for k, c := range a.Cards {
			validateCard(p, at.item(k), c, a, holders)
		}
	}
	if len(*p) > n {
		return nil
	}
	return &accountChecked{in: a, holders: holders}
}

// checkHolders checks a holder list: non-empty, at most MaxHoldersPerAccount, every id valid,
// no id twice. Unless the list is missing, empty or too long, it returns the ids listed as a
// set, even when some of them are invalid; ok tells whether all are valid.
func (p *problems) checkHolders(path at, ids []string) (set map[string]bool, ok bool) {
	if ids == nil {
		p.add(path, UserErrorCodeRequired, "sourceCustomerIds is required")
		return nil, false
	}
	if len(ids) == 0 {
		p.add(path, UserErrorCodeInvalidValue, "sourceCustomerIds must name at least one holder")
		return nil, false
	}
	if p.tooMany(path, "holders per account", len(ids), MaxHoldersPerAccount) {
		return nil, false
	}
	n := len(*p)
	set = make(map[string]bool, len(ids))
	for i, id := range ids {
		if p.checkID(path.item(i), "a holder's sourceCustomerId", id) && set[id] {
			p.add(path.item(i), UserErrorCodeInvalidValue, "holder %s is listed twice", Quote(id))
		}
		set[id] = true
	}
	return set, len(*p) == n
}

// validateCard checks one card of account a, whose listed holders are holders (nil when the
// list could not be read).
func validateCard(p *problems, path at, c *CardInput, a *AccountInput, holders map[string]bool) {
	if c == nil {
		p.add(path, UserErrorCodeRequired, "a card may not be null")
		return
	}
	if at := path.field("sourceAccountId"); p.requiredID(at, "sourceAccountId", c.SourceAccountID) && a.SourceAccountID != nil &&
		*c.SourceAccountID != *a.SourceAccountID {
		p.add(at, UserErrorCodeInconsistent, "a card's sourceAccountId must equal its account's, %s", Quote(*a.SourceAccountID))
	}
	if at := path.field("sourceCustomerId"); p.requiredID(at, "sourceCustomerId", c.SourceCustomerID) && holders != nil &&
		!holders[*c.SourceCustomerID] {
		p.add(at, UserErrorCodeInconsistent, "cardholder %s is not one of the account's sourceCustomerIds", Quote(*c.SourceCustomerID))
	}
	if at := path.field("last4"); p.required(at, "last4", c.Last4 != nil) {
		p.checkLast4(at, *c.Last4)
	}
	iinAt := path.field("iin")
	iinOK := p.required(iinAt, "iin", c.Iin != nil) && p.checkIIN(iinAt, *c.Iin)
	checkEnum(p, path.field("cardType"), "cardType", c.CardType)
	statusOK := checkEnum(p, path.field("status"), "status", c.Status)
	if at := path.field("networkIdentifier"); p.required(at, "networkIdentifier", c.NetworkIdentifier != nil) &&
		p.checkNetwork(at, *c.NetworkIdentifier) && iinOK {
		p.checkNetworkMatchesIIN(at, *c.Iin, *c.NetworkIdentifier)
	}
	if p.required(path.field("openDate"), "openDate", c.OpenDate != nil) && statusOK {
		p.checkClosing(path.field("closeDate"), "card", *c.Status == CardStatusClosed, *c.Status == CardStatusOpen,
			*c.OpenDate, c.CloseDate, "closeDate", "openDate")
	}
}

// occurrence is where in a batch an account (card < 0) or one of its cards occurs:
// customers[customer].accounts[account] or customers[customer].accounts[account].cards[card].
type occurrence struct{ customer, account, card int }

func (o occurrence) String() string { return o.path().String() }

func (o occurrence) path() at {
	customers := pathAt("customers")
	c := customers.item(o.customer)
	accounts := c.field("accounts")
	a := accounts.item(o.account)
	if o.card < 0 {
		return a
	}
	cards := a.field("cards")
	return cards.item(o.card)
}

// accountSeen is the first occurrence of an account in a batch.
type accountSeen struct {
	at occurrence
	*accountChecked
}

// cardSeen is the first occurrence of a card in a batch.
type cardSeen struct {
	at occurrence
	in *CardInput
}

// crossAccounts checks the account occurrences of customer i against their earlier
// occurrences in the batch: a joint account listed under several holders must carry the same
// attributes and holders each time, and a card listed twice must carry the same data.
// Occurrences with their own problems (nil) are left out of the comparison; those problems are
// reported already. Each occurrence is compared with the first one through maps, so the work
// is linear in the batch.
func crossAccounts(p *problems, i int, accounts []*accountChecked, seen map[string]*accountSeen, cards map[CardKey]*cardSeen) {
	for j, a := range accounts {
		if a == nil || a.in.SourceAccountID == nil {
			continue
		}
		here := occurrence{i, j, -1}
		id := *a.in.SourceAccountID
		if first, ok := seen[id]; !ok {
			seen[id] = &accountSeen{at: here, accountChecked: a}
		} else if first.at != here && !sameAccountInput(first.accountChecked, a) {
			p.add(here.path(), UserErrorCodeConflict, "account %s differs from its occurrence at %s: every occurrence of a joint account must carry the same attributes and sourceCustomerIds",
				Quote(id), first.at)
			continue
		}
		for k, card := range a.in.Cards {
			key := CardKey{SourceAccountID: *card.SourceAccountID, SourceCustomerID: *card.SourceCustomerID, Last4: *card.Last4}
			if first, ok := cards[key]; !ok {
				cards[key] = &cardSeen{at: occurrence{i, j, k}, in: card}
			} else if !sameCardInput(first.in, card) {
				p.add(occurrence{i, j, k}.path(), UserErrorCodeConflict, "card %s of customer %s differs from its occurrence at %s",
					Quote(key.Last4), Quote(key.SourceCustomerID), first.at)
			}
		}
	}
}

// sameAccountInput compares two valid occurrences of an account. Holder lists compare as sets:
// occurrences of a joint account may list its holders in any order (the first occurrence's
// order is stored); neither lists a holder twice, so equal lengths and inclusion mean equal
// sets.
func sameAccountInput(x, y *accountChecked) bool {
	a, b := x.in, y.in
	if len(a.SourceCustomerIds) != len(b.SourceCustomerIds) {
		return false
	}
	for _, id := range b.SourceCustomerIds {
		if !x.holders[id] {
			return false
		}
	}
	return *a.PrimarySourceCustomerID == *b.PrimarySourceCustomerID &&
		*a.Status == *b.Status &&
		*a.Type == *b.Type &&
		*a.SourcePortfolioID == *b.SourcePortfolioID &&
		a.AccountOpenDate.Equal(*b.AccountOpenDate) &&
		eqTime(a.AccountCloseDate, b.AccountCloseDate)
}

func sameCardInput(a, b *CardInput) bool {
	return *a.Iin == *b.Iin &&
		*a.CardType == *b.CardType &&
		*a.Status == *b.Status &&
		*a.NetworkIdentifier == *b.NetworkIdentifier &&
		a.OpenDate.Equal(*b.OpenDate) &&
		eqTime(a.CloseDate, b.CloseDate)
}

// Rows are the stored rows a batch of customer trees becomes.
type Rows struct {
	Customers []*Customer
	// CustomerIndex[k] is the input index of Customers[k].
	CustomerIndex []int
	// Accounts holds each account once, from its first included occurrence.
	Accounts []*Account
	// Cards holds each card once: the union of the cards of every occurrence of its account.
	Cards []*Card
}

// BuildRows turns validated customer trees into rows, taking the customers for which include
// returns true. Country codes are stored upper-case and alert opt-ins as an ordered set.
func BuildRows(in []*CustomerInput, include func(int) bool) *Rows {
	r := &Rows{}
	seenAccount := map[string]bool{}
	seenCard := map[CardKey]bool{}
	for i, c := range in {
		if !include(i) {
			continue
		}
		r.Customers = append(r.Customers, &Customer{
			SourceCustomerID:       *c.SourceCustomerID,
			SourceParentCustomerID: c.SourceParentCustomerID,
			OrganizationID:         *c.OrganizationID,
			PostalCode:             *c.PostalCode,
			Country:                strings.ToUpper(*c.Country),
			CustomerCreationDate:   *c.CustomerCreationDate,
			EnrollmentStartDate:    *c.EnrollmentStartDate,
			EnrollmentEndDate:      c.EnrollmentEndDate,
			EnrollmentOptInStatus:  *c.EnrollmentOptInStatus,
			AlertOptInStatus:       normalizeAlerts(c.AlertOptInStatus),
			TargetingIndicator:     *c.TargetingIndicator,
			RedemptionEligibility:  c.RedemptionEligibility,
		})
		r.CustomerIndex = append(r.CustomerIndex, i)
		for _, a := range c.Accounts {
			if !seenAccount[*a.SourceAccountID] {
				seenAccount[*a.SourceAccountID] = true
				r.Accounts = append(r.Accounts, &Account{
					SourceAccountID:         *a.SourceAccountID,
					SourceCustomerIDs:       slices.Clone(a.SourceCustomerIds),
					PrimarySourceCustomerID: *a.PrimarySourceCustomerID,
					Status:                  *a.Status,
					Type:                    *a.Type,
					SourcePortfolioID:       *a.SourcePortfolioID,
					AccountOpenDate:         *a.AccountOpenDate,
					AccountCloseDate:        a.AccountCloseDate,
				})
			}
			for _, k := range a.Cards {
				key := CardKey{SourceAccountID: *k.SourceAccountID, SourceCustomerID: *k.SourceCustomerID, Last4: *k.Last4}
				if seenCard[key] {
					continue
				}
				seenCard[key] = true
				r.Cards = append(r.Cards, &Card{
					SourceAccountID:   key.SourceAccountID,
					SourceCustomerID:  key.SourceCustomerID,
					Last4:             key.Last4,
					IIN:               *k.Iin,
					CardType:          *k.CardType,
					Status:            *k.Status,
					NetworkIdentifier: *k.NetworkIdentifier,
					OpenDate:          *k.OpenDate,
					CloseDate:         k.CloseDate,
				})
			}
		}
	}
	return r
}
