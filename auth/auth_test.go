package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portfolio-graph/portfolio-graph/models"
)

func writePublicKey(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func claims(role string, orgs ...string) Claims {
	return Claims{Role: role, Orgs: orgs, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "s", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}}
}

// Public-key tokens verify with the matching key and algorithm only.
func TestPublicKeys(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cases := []struct {
		name   string
		pub    any
		method jwt.SigningMethod
		priv   any
		ok     bool
	}{
		{"RS256", &rsaKey.PublicKey, jwt.SigningMethodRS256, rsaKey, true},
		{"ES256", &ecKey.PublicKey, jwt.SigningMethodES256, ecKey, true},
		{"ES256 other key", &ecKey.PublicKey, jwt.SigningMethodES256, otherEC, false},
		{"RS512 on an RSA key", &rsaKey.PublicKey, jwt.SigningMethodRS512, rsaKey, false},
		{"HS256 with the public key as secret", &rsaKey.PublicKey, jwt.SigningMethodHS256, []byte("x"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := NewVerifier(Config{PublicKeyFile: writePublicKey(t, c.pub)})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jwt.NewWithClaims(c.method, claims("writer", "O1")).SignedString(c.priv)
			if err != nil {
				t.Fatal(err)
			}
			id, err := v.Verify(tok)
			if c.ok != (err == nil) {
				t.Fatalf("got %+v, %v", id, err)
			}
			if c.ok && (id.Role != models.RoleWriter || !id.Scope.Allows("O1") || id.Scope.Allows("O2")) {
				t.Errorf("identity: %+v", id)
			}
		})
	}
}

// Roles and organizations map to a scope; admins and "*" see every organization.
func TestIdentity(t *testing.T) {
	cfg := Config{Secret: "0123456789abcdef0123456789abcdef"}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		role string
		orgs []string
		all  bool
	}{{"reader", []string{"O1"}, false}, {"reader", []string{"*"}, true}, {"admin", nil, true}} {
		tok, err := Mint(cfg, "s", c.role, c.orgs, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		id, err := v.Verify(tok)
		if err != nil || id.Scope.All() != c.all || id.Subject != "s" {
			t.Errorf("%s %v: got %+v, %v", c.role, c.orgs, id, err)
		}
	}
	if _, err := NewVerifier(Config{Secret: "short"}); err == nil {
		t.Error("a short secret was accepted")
	}
	if _, err := NewVerifier(Config{Secret: cfg.Secret, PublicKeyFile: "x"}); err == nil {
		t.Error("secret and key file together were accepted")
	}
	if _, err := Mint(cfg, "s", "reader", nil, time.Minute); err == nil {
		t.Error("minted a reader token without organizations")
	}
	// sub is a required claim.
	noSub := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"role": "reader", "orgs": []string{"O1"}, "exp": time.Now().Add(time.Hour).Unix()})
	tok, err := noSub.SignedString([]byte(cfg.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if id, err := v.Verify(tok); err == nil {
		t.Errorf("a token without sub was accepted: %+v", id)
	}
}
