// Package auth verifies and mints the bearer tokens (JWT) that carry a caller's role and
// organizations. It knows nothing of HTTP or GraphQL: the server asks it who a token names.
package auth

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// MaxLeeway is the clock skew allowed when checking exp and nbf.
const MaxLeeway = time.Minute

// AllOrgs in the orgs claim means every organization.
const AllOrgs = "*"

// Config selects how tokens are verified: a shared secret (HS256) or a public key file in PEM
// (RS256 or ES256), and optionally the issuer and audience they must name.
type Config struct {
	Secret        string
	PublicKeyFile string
	Issuer        string
	Audience      string
}

// Enabled reports whether a key is configured; without one the server runs open.
func (c Config) Enabled() bool { return c.Secret != "" || c.PublicKeyFile != "" }

// Claims are the token's claims.
type Claims struct {
	Role string   `json:"role"`
	Orgs []string `json:"orgs"`
	jwt.RegisteredClaims
}

// Identity is who a verified token names.
type Identity struct {
	Subject string
	Role    models.Role
	Scope   models.Scope
}

// Verifier checks tokens.
type Verifier struct {
	key    any
	parser *jwt.Parser
}

// NewVerifier builds a verifier from cfg, reading the public key file if one is named.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Secret != "" && cfg.PublicKeyFile != "" {
		return nil, errors.New("AUTH_JWT_SECRET and AUTH_JWT_PUBLIC_KEY_FILE are exclusive: configure one")
	}
	opts := []jwt.ParserOption{jwt.WithExpirationRequired(), jwt.WithLeeway(MaxLeeway)}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v := &Verifier{}
	switch {
	case cfg.Secret != "":
		if len(cfg.Secret) < 32 {
			return nil, errors.New("AUTH_JWT_SECRET must be at least 32 characters")
		}
		v.key = []byte(cfg.Secret)
		opts = append(opts, jwt.WithValidMethods([]string{"HS256"}))
	case cfg.PublicKeyFile != "":
		pem, err := os.ReadFile(cfg.PublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("AUTH_JWT_PUBLIC_KEY_FILE: %w", err)
		}
		if k, err := jwt.ParseRSAPublicKeyFromPEM(pem); err == nil {
			v.key = k
			opts = append(opts, jwt.WithValidMethods([]string{"RS256"}))
		} else if k, err := jwt.ParseECPublicKeyFromPEM(pem); err == nil {
			v.key = k
			opts = append(opts, jwt.WithValidMethods([]string{"ES256"}))
		} else {
			return nil, errors.New("AUTH_JWT_PUBLIC_KEY_FILE: not an RSA or EC public key in PEM")
		}
	default:
		return nil, errors.New("no key configured")
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Verify checks a token and returns who it names. Its error is safe to show to the caller.
func (v *Verifier) Verify(token string) (*Identity, error) {
	var c Claims
	_, err := v.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return v.key, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, errors.New("the token has expired")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return nil, errors.New("the token has no exp claim")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, errors.New("the token's signature does not verify")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return nil, errors.New("the token's issuer is not accepted")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return nil, errors.New("the token's audience is not accepted")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, errors.New("the token is not valid yet")
	case err != nil:
		return nil, errors.New("the token is malformed")
	}
	return identity(&c)
}

func identity(c *Claims) (*Identity, error) {
	if strings.TrimSpace(c.Subject) == "" {
		return nil, errors.New("the token names no subject (sub claim)")
	}
	id := &Identity{Subject: c.Subject}
	switch c.Role {
	case "reader":
		id.Role = models.RoleReader
	case "writer":
		id.Role = models.RoleWriter
	case "admin":
		id.Role = models.RoleAdmin
	default:
		return nil, fmt.Errorf("the token's role %q is not reader, writer or admin", c.Role)
	}
	switch {
	case id.Role == models.RoleAdmin || slices.Contains(c.Orgs, AllOrgs):
		id.Scope = models.AllOrganizations()
	case len(c.Orgs) == 0:
		return nil, errors.New("the token names no organization (orgs claim)")
	default:
		id.Scope = models.Organizations(c.Orgs...)
	}
	return id, nil
}

// Mint signs a token with a shared secret (HS256), for operators and tests.
func Mint(cfg Config, subject, role string, orgs []string, ttl time.Duration) (string, error) {
	if cfg.Secret == "" {
		return "", errors.New("minting needs AUTH_JWT_SECRET (tokens for a public key are signed by its private key's owner)")
	}
	if _, err := NewVerifier(cfg); err != nil {
		return "", err // a secret the server would refuse signs nothing
	}
	if _, err := identity(&Claims{Role: role, Orgs: orgs, RegisteredClaims: jwt.RegisteredClaims{Subject: subject}}); err != nil {
		return "", fmt.Errorf("cannot mint: %w", err)
	}
	if ttl <= 0 {
		return "", errors.New("the time to live must be positive")
	}
	now := time.Now()
	c := Claims{Role: role, Orgs: orgs, RegisteredClaims: jwt.RegisteredClaims{
		Subject:   subject,
		Issuer:    cfg.Issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	if cfg.Audience != "" {
		c.Audience = jwt.ClaimStrings{cfg.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(cfg.Secret))
}
