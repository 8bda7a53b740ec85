package models

import "time"

// Card is a stored card, keyed by (sourceAccountId, sourceCustomerId, last4) as the publisher
// locates it. Only last4 and the IIN are kept, never a full card number.
type Card struct {
	SourceAccountID   string     `gorm:"primaryKey"`
	SourceCustomerID  string     `gorm:"primaryKey;index:idx_cards_customer"`
	Last4             string     `gorm:"primaryKey;index:idx_cards_last4_iin,priority:1"`
	IIN               string     `gorm:"column:iin;not null;index:idx_cards_last4_iin,priority:2"`
	CardType          CardType   `gorm:"not null"`
	Status            CardStatus `gorm:"not null"`
	NetworkIdentifier int        `gorm:"not null"`
	OpenDate          time.Time  `gorm:"not null"`
	CloseDate         *time.Time
	CreatedAt         time.Time `gorm:"not null;autoCreateTime:false"`
	UpdatedAt         time.Time `gorm:"not null;autoUpdateTime:false"`
}

// ID is the card's opaque global id.
func (c *Card) ID() string { return CardNodeID(c.Key()) }

// IsNode marks Card as a Node.
func (*Card) IsNode() {}

// Key is the card's natural key.
func (c *Card) Key() CardKey {
	return CardKey{SourceAccountID: c.SourceAccountID, SourceCustomerID: c.SourceCustomerID, Last4: c.Last4}
}

// Network names the card's payment network.
func (c *Card) Network() CardNetwork { return NetworkOf(c.NetworkIdentifier) }

// NetworkOf maps a network identifier to its network; identifiers are validated on input.
func NetworkOf(id int) CardNetwork {
	switch id {
	case 3:
		return CardNetworkAmericanExpress
	case 4:
		return CardNetworkVisa
	case 5:
		return CardNetworkMastercard
	default:
		return CardNetworkDiscover
	}
}

// SameAttributes reports whether two cards carry the same data.
func (c *Card) SameAttributes(o *Card) bool {
	return c.Key() == o.Key() &&
		c.IIN == o.IIN &&
		c.CardType == o.CardType &&
		c.Status == o.Status &&
		c.NetworkIdentifier == o.NetworkIdentifier &&
		c.OpenDate.Equal(o.OpenDate) &&
		eqTime(c.CloseDate, o.CloseDate)
}

// CardKey is the natural key of a card.
type CardKey struct {
	SourceAccountID  string
	SourceCustomerID string
	Last4            string
}
