package models

import (
	"slices"
	"time"
)

// Account is a stored account. SourceCustomerIDs keeps the holder list exactly as sent
// (ingested or not, in order), so reading an account needs no join; AccountHolder rows index
// the same set for the "accounts of a customer" direction. Both are written together.
type Account struct {
	SourceAccountID         string        `gorm:"primaryKey"`
	SourceCustomerIDs       []string      `gorm:"type:text;not null;serializer:json"`
	PrimarySourceCustomerID string        `gorm:"not null"`
	Status                  AccountStatus `gorm:"not null"`
	Type                    AccountType   `gorm:"not null"`
	SourcePortfolioID       string        `gorm:"not null"`
	AccountOpenDate         time.Time     `gorm:"not null"`
	AccountCloseDate        *time.Time
	CreatedAt               time.Time `gorm:"not null;autoCreateTime:false"`
	UpdatedAt               time.Time `gorm:"not null;autoUpdateTime:false"`
}

// ID is the account's opaque global id.
func (a *Account) ID() string { return AccountNodeID(a.SourceAccountID) }

// IsNode marks Account as a Node.
func (*Account) IsNode() {}

// SameAttributes reports whether two accounts carry the same data and holder list.
func (a *Account) SameAttributes(o *Account) bool {
	return a.SourceAccountID == o.SourceAccountID &&
		slices.Equal(a.SourceCustomerIDs, o.SourceCustomerIDs) &&
		a.PrimarySourceCustomerID == o.PrimarySourceCustomerID &&
		a.Status == o.Status &&
		a.Type == o.Type &&
		a.SourcePortfolioID == o.SourcePortfolioID &&
		a.AccountOpenDate.Equal(o.AccountOpenDate) &&
		eqTime(a.AccountCloseDate, o.AccountCloseDate)
}

// AccountHolder links an account to one of its holders. Holders may name customers that are
// not ingested yet, so there is no foreign key to customers. Position keeps the order of
// sourceCustomerIds.
type AccountHolder struct {
	SourceAccountID  string `gorm:"primaryKey;index:idx_account_holders_customer,priority:2"`
	SourceCustomerID string `gorm:"primaryKey;index:idx_account_holders_customer,priority:1"`
	Position         int    `gorm:"not null"`
}
