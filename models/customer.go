package models

import (
	"slices"
	"time"
)

// Customer is a stored customer. It is both the GORM row and the GraphQL object: gqlgen binds
// the schema's Customer to it, and the relation fields (parent, children, accounts, cards) are
// resolved through loaders.
type Customer struct {
	SourceCustomerID       string    `gorm:"primaryKey;index:idx_customers_org,priority:2;index:idx_customers_creation,priority:2;index:idx_customers_enrollment,priority:2;index:idx_customers_updated,priority:2"`
	SourceParentCustomerID *string   `gorm:"index:idx_customers_parent"`
	OrganizationID         string    `gorm:"not null;index:idx_customers_org,priority:1"`
	PostalCode             string    `gorm:"not null"`
	Country                string    `gorm:"not null"`
	CustomerCreationDate   time.Time `gorm:"not null;index:idx_customers_creation,priority:1"`
	EnrollmentStartDate    time.Time `gorm:"not null;index:idx_customers_enrollment,priority:1"`
	EnrollmentEndDate      *time.Time
	EnrollmentOptInStatus  EnrollmentOptInStatus      `gorm:"not null"`
	AlertOptInStatus       []AlertOptInStatus         `gorm:"type:text;not null;serializer:json"`
	TargetingIndicator     CustomerTargetingIndicator `gorm:"not null"`
	RedemptionEligibility  *RedemptionEligibility
	CreatedAt              time.Time `gorm:"not null;autoCreateTime:false"`
	UpdatedAt              time.Time `gorm:"not null;autoUpdateTime:false;index:idx_customers_updated,priority:1"`
}

// ID is the customer's opaque global id.
func (c *Customer) ID() string { return CustomerNodeID(c.SourceCustomerID) }

// IsNode marks Customer as a Node.
func (*Customer) IsNode() {}

// SameAttributes reports whether two customers carry the same publisher data, ignoring the
// timestamps; an ingest that changes nothing must not move updatedAt.
func (c *Customer) SameAttributes(o *Customer) bool {
	return c.SourceCustomerID == o.SourceCustomerID &&
		eqPtr(c.SourceParentCustomerID, o.SourceParentCustomerID) &&
		c.OrganizationID == o.OrganizationID &&
		c.PostalCode == o.PostalCode &&
		c.Country == o.Country &&
		c.CustomerCreationDate.Equal(o.CustomerCreationDate) &&
		c.EnrollmentStartDate.Equal(o.EnrollmentStartDate) &&
		eqTime(c.EnrollmentEndDate, o.EnrollmentEndDate) &&
		c.EnrollmentOptInStatus == o.EnrollmentOptInStatus &&
		slices.Equal(c.AlertOptInStatus, o.AlertOptInStatus) &&
		c.TargetingIndicator == o.TargetingIndicator &&
		eqPtr(c.RedemptionEligibility, o.RedemptionEligibility)
}

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func eqTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
