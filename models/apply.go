package models

import (
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// Applying a patch: an absent field stays, an explicit null clears an optional field (and is
// a REQUIRED problem on a required one), a value is checked by the same rules as on ingest.
// The result must satisfy every rule between fields; such a problem is reported at the later
// field of the pair, as on ingest, whichever of the two the patch set.

// patchField reads one field of a patch: set tells whether the client sent it, and ok whether
// the value may be used (it is not a null on a required field).
func patchField[T any](p *problems, path, name string, o graphql.Omittable[*T], optional bool) (v *T, set bool) {
	v, set = o.ValueOK()
	if set && v == nil && !optional {
		p.add(pathAt(path), UserErrorCodeRequired, "%s is required and cannot be cleared", name)
		return nil, false
	}
	return v, set
}

// ApplyCustomerPatch returns old with the patch applied, or the problems that stop it.
func ApplyCustomerPatch(old *Customer, patch CustomerPatch) (*Customer, []UserError) {
	var p problems
	c := *old
	if v, set := patchField(&p, "patch.sourceParentCustomerId", "sourceParentCustomerId", patch.SourceParentCustomerID, true); set {
		if v == nil || p.checkID(pathAt("patch.sourceParentCustomerId"), "sourceParentCustomerId", *v) {
			c.SourceParentCustomerID = v
		}
		if v != nil && *v == c.SourceCustomerID {
			p.add(pathAt("patch.sourceParentCustomerId"), UserErrorCodeInconsistent, "a customer cannot be its own parent")
		}
	}
	if v, set := patchField(&p, "patch.organizationId", "organizationId", patch.OrganizationID, false); v != nil && set {
		if p.checkID(pathAt("patch.organizationId"), "organizationId", *v) {
			c.OrganizationID = *v
		}
	}
	if v, _ := patchField(&p, "patch.postalCode", "postalCode", patch.PostalCode, false); v != nil {
		n := len(p)
		if p.checkPostalCode(pathAt("patch.postalCode"), *v); len(p) == n {
			c.PostalCode = *v
		}
	}
	if v, _ := patchField(&p, "patch.country", "country", patch.Country, false); v != nil {
		n := len(p)
		if p.checkCountry(pathAt("patch.country"), *v); len(p) == n {
			c.Country = strings.ToUpper(*v)
		}
	}
	if v, _ := patchField(&p, "patch.customerCreationDate", "customerCreationDate", patch.CustomerCreationDate, false); v != nil {
		c.CustomerCreationDate = *v
	}
	startV, _ := patchField(&p, "patch.enrollmentStartDate", "enrollmentStartDate", patch.EnrollmentStartDate, false)
	if startV != nil {
		c.EnrollmentStartDate = *startV
	}
	endV, endSet := patchField(&p, "patch.enrollmentEndDate", "enrollmentEndDate", patch.EnrollmentEndDate, true)
	if endSet {
		c.EnrollmentEndDate = endV
	}
	if (startV != nil || endSet) && c.EnrollmentEndDate != nil {
		p.checkDateOrder(pathAt("patch.enrollmentEndDate"), "enrollmentEndDate",
			*c.EnrollmentEndDate, "enrollmentStartDate", c.EnrollmentStartDate)
	}
	if v, _ := patchField(&p, "patch.enrollmentOptInStatus", "enrollmentOptInStatus", patch.EnrollmentOptInStatus, false); v != nil {
		if checkEnum(&p, pathAt("patch.enrollmentOptInStatus"), "enrollmentOptInStatus", v) {
			c.EnrollmentOptInStatus = *v
		}
	}
	if v, set := patch.AlertOptInStatus.ValueOK(); set {
		if v == nil {
			p.add(pathAt("patch.alertOptInStatus"), UserErrorCodeRequired, "alertOptInStatus is required and cannot be cleared")
		} else {
			n := len(p)
			if p.checkAlerts(pathAt("patch.alertOptInStatus"), v); len(p) == n {
				c.AlertOptInStatus = normalizeAlerts(v)
			}
		}
	}
	if v, _ := patchField(&p, "patch.targetingIndicator", "targetingIndicator", patch.TargetingIndicator, false); v != nil {
		if checkEnum(&p, pathAt("patch.targetingIndicator"), "targetingIndicator", v) {
			c.TargetingIndicator = *v
		}
	}
	if v, set := patchField(&p, "patch.redemptionEligibility", "redemptionEligibility", patch.RedemptionEligibility, true); set {
		checkOptionalEnum(&p, pathAt("patch.redemptionEligibility"), "redemptionEligibility", v)
		c.RedemptionEligibility = v
	}
	if len(p) > 0 {
		return nil, p
	}
	return &c, nil
}

// ApplyAccountPatch returns old with the patch applied, or the problems that stop it. A new
// holder list replaces the old one; a close date set without a status closes the account.
func ApplyAccountPatch(old *Account, patch AccountPatch) (*Account, []UserError) {
	var p problems
	a := *old
	holders, holdersSet := patch.SourceCustomerIDs.ValueOK()
	holdersOK := true
	if holdersSet {
		if _, holdersOK = p.checkHolders(pathAt("patch.sourceCustomerIds"), holders); holdersOK {
			a.SourceCustomerIDs = slices.Clone(holders)
		}
	}
	primary, primarySet := patchField(&p, "patch.primarySourceCustomerId", "primarySourceCustomerId", patch.PrimarySourceCustomerID, false)
	primaryOK := true
	if primary != nil {
		if primaryOK = p.checkID(pathAt("patch.primarySourceCustomerId"), "primarySourceCustomerId", *primary); primaryOK {
			a.PrimarySourceCustomerID = *primary
		}
	}
	if (holdersSet || primarySet) && holdersOK && primaryOK && !slices.Contains(a.SourceCustomerIDs, a.PrimarySourceCustomerID) {
		p.add(pathAt("patch.primarySourceCustomerId"), UserErrorCodeInconsistent,
			"primarySourceCustomerId %s is not one of sourceCustomerIds", Quote(a.PrimarySourceCustomerID))
	}
	status, statusSet := patchField(&p, "patch.status", "status", patch.Status, false)
	if status != nil && checkEnum(&p, pathAt("patch.status"), "status", status) {
		a.Status = *status
	}
	if v, _ := patchField(&p, "patch.type", "type", patch.Type, false); v != nil {
		if checkEnum(&p, pathAt("patch.type"), "type", v) {
			a.Type = *v
		}
	}
	if v, _ := patchField(&p, "patch.sourcePortfolioId", "sourcePortfolioId", patch.SourcePortfolioID, false); v != nil {
		if p.checkID(pathAt("patch.sourcePortfolioId"), "sourcePortfolioId", *v) {
			a.SourcePortfolioID = *v
		}
	}
	openV, openSet := patchField(&p, "patch.accountOpenDate", "accountOpenDate", patch.AccountOpenDate, false)
	if openV != nil {
		a.AccountOpenDate = *openV
	}
	closeV, closeSet := patchField(&p, "patch.accountCloseDate", "accountCloseDate", patch.AccountCloseDate, true)
	if closeSet {
		a.AccountCloseDate = closeV
		if closeV != nil && !statusSet {
			a.Status = AccountStatusClosed
		}
	}
	if statusSet || openSet || closeSet {
		p.checkClosing(pathAt("patch.accountCloseDate"),
			"account", a.Status == AccountStatusClosed, a.Status == AccountStatusOpen, a.AccountOpenDate, a.AccountCloseDate,
			"accountCloseDate", "accountOpenDate")
	}
	if len(p) > 0 {
		return nil, p
	}
	return &a, nil
}

// ApplyCardPatch returns old with the patch applied, or the problems that stop it. A close
// date set without a status closes the card.
func ApplyCardPatch(old *Card, patch CardPatch) (*Card, []UserError) {
	var p problems
	c := *old
	iin, iinSet := patchField(&p, "patch.iin", "iin", patch.IIN, false)
	iinOK := true
	if iin != nil {
		if iinOK = p.checkIIN(pathAt("patch.iin"), *iin); iinOK {
			c.IIN = *iin
		}
	}
	if v, _ := patchField(&p, "patch.cardType", "cardType", patch.CardType, false); v != nil {
		if checkEnum(&p, pathAt("patch.cardType"), "cardType", v) {
			c.CardType = *v
		}
	}
	status, statusSet := patchField(&p, "patch.status", "status", patch.Status, false)
	if status != nil && checkEnum(&p, pathAt("patch.status"), "status", status) {
		c.Status = *status
	}
	network, networkSet := patchField(&p, "patch.networkIdentifier", "networkIdentifier", patch.NetworkIdentifier, false)
	networkOK := true
	if network != nil {
		if networkOK = p.checkNetwork(pathAt("patch.networkIdentifier"), *network); networkOK {
			c.NetworkIdentifier = *network
		}
	}
	if (iinSet || networkSet) && iinOK && networkOK {
		p.checkNetworkMatchesIIN(pathAt("patch.networkIdentifier"), c.IIN, c.NetworkIdentifier)
	}
	openV, openSet := patchField(&p, "patch.openDate", "openDate", patch.OpenDate, false)
	if openV != nil {
		c.OpenDate = *openV
	}
	closeV, closeSet := patchField(&p, "patch.closeDate", "closeDate", patch.CloseDate, true)
	if closeSet {
		c.CloseDate = closeV
		if closeV != nil && !statusSet {
			c.Status = CardStatusClosed
		}
	}
	if statusSet || openSet || closeSet {
		p.checkClosing(pathAt("patch.closeDate"),
			"card", c.Status == CardStatusClosed, c.Status == CardStatusOpen, c.OpenDate, c.CloseDate, "closeDate", "openDate")
	}
	if len(p) > 0 {
		return nil, p
	}
	return &c, nil
}
