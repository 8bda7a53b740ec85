package models

import (
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// Patches tell an absent field (unchanged) from an explicit null (cleared): gqlgen fills an
// Omittable only when the client sent the field.

// CustomerPatch changes some fields of a customer.
type CustomerPatch struct {
	SourceParentCustomerID graphql.Omittable[*string]                     `json:"sourceParentCustomerId"`
	OrganizationID         graphql.Omittable[*string]                     `json:"organizationId"`
	PostalCode             graphql.Omittable[*string]                     `json:"postalCode"`
	Country                graphql.Omittable[*string]                     `json:"country"`
	CustomerCreationDate   graphql.Omittable[*time.Time]                  `json:"customerCreationDate"`
	EnrollmentStartDate    graphql.Omittable[*time.Time]                  `json:"enrollmentStartDate"`
	EnrollmentEndDate      graphql.Omittable[*time.Time]                  `json:"enrollmentEndDate"`
	EnrollmentOptInStatus  graphql.Omittable[*EnrollmentOptInStatus]      `json:"enrollmentOptInStatus"`
	AlertOptInStatus       graphql.Omittable[[]AlertOptInStatus]          `json:"alertOptInStatus"`
	TargetingIndicator     graphql.Omittable[*CustomerTargetingIndicator] `json:"targetingIndicator"`
	RedemptionEligibility  graphql.Omittable[*RedemptionEligibility]      `json:"redemptionEligibility"`
}

// AccountPatch changes some fields of an account, possibly its holders.
type AccountPatch struct {
	SourceCustomerIDs       graphql.Omittable[[]string]       `json:"sourceCustomerIds"`
	PrimarySourceCustomerID graphql.Omittable[*string]        `json:"primarySourceCustomerId"`
	Status                  graphql.Omittable[*AccountStatus] `json:"status"`
	Type                    graphql.Omittable[*AccountType]   `json:"type"`
	SourcePortfolioID       graphql.Omittable[*string]        `json:"sourcePortfolioId"`
	AccountOpenDate         graphql.Omittable[*time.Time]     `json:"accountOpenDate"`
	AccountCloseDate        graphql.Omittable[*time.Time]     `json:"accountCloseDate"`
}

// CardPatch changes some fields of a card.
type CardPatch struct {
	IIN               graphql.Omittable[*string]     `json:"iin"`
	CardType          graphql.Omittable[*CardType]   `json:"cardType"`
	Status            graphql.Omittable[*CardStatus] `json:"status"`
	NetworkIdentifier graphql.Omittable[*int]        `json:"networkIdentifier"`
	OpenDate          graphql.Omittable[*time.Time]  `json:"openDate"`
	CloseDate         graphql.Omittable[*time.Time]  `json:"closeDate"`
}
