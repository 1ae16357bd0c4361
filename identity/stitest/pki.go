// Package stitest builds a STIR/SHAKEN test PKI for tests: a root (the
// STI-CA trust anchor), an intermediate, and an STI certificate carrying
// the TNAuthList extension (RFC 8226 §9), with its P-256 key.
//
//	root ──signs──► intermediate ──signs──► STI leaf (TNAuthList: SPC)
//
// It is for tests only: keys are made fresh each time and never stored
// unless the test writes them.
package stitest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a made test PKI.
type PKI struct {
	Root, Intermediate, Leaf          *x509.Certificate
	RootKey, IntermediateKey, LeafKey *ecdsa.PrivateKey
}

// Options change what New makes.
type Options struct {
	// NoTNAuthList leaves the extension off the leaf.
	NoTNAuthList bool
	// LeafNotAfter, when set, is the leaf's expiry (default a day ahead).
	LeafNotAfter time.Time
}

// oidTNAuthList is RFC 8226 §9's id-pe-TNAuthList.
var oidTNAuthList = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 26}

// tnAuthListSPC is a TNAuthorizationList with one ServiceProviderCode
// ([0] EXPLICIT IA5String "1234"): SEQUENCE { [0] { IA5String } }.
var tnAuthListSPC = []byte{0x30, 0x08, 0xa0, 0x06, 0x16, 0x04, '1', '2', '3', '4'}

// New makes a PKI; it panics on failure (a test setup cannot go on).
func New(o Options) *PKI {
	p := &PKI{RootKey: key(), IntermediateKey: key(), LeafKey: key()}
	now := time.Now()
	p.Root = cert(&x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test STI-CA root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, p.RootKey, nil)
	p.Intermediate = cert(&x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Test STI-CA intermediate"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, p.Root, p.IntermediateKey, p.RootKey)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "SHAKEN 1234"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if !o.LeafNotAfter.IsZero() {
		leaf.NotAfter = o.LeafNotAfter
	}
	if !o.NoTNAuthList {
		leaf.ExtraExtensions = []pkix.Extension{{Id: oidTNAuthList, Value: tnAuthListSPC}}
	}
	p.Leaf = cert(leaf, p.Intermediate, p.LeafKey, p.IntermediateKey)
	return p
}

// Chain is the PEM served at x5u: leaf then intermediate.
func (p *PKI) Chain() []byte {
	return append(CertPEM(p.Leaf), CertPEM(p.Intermediate)...)
}

// RootPool is a pool with the root alone.
func (p *PKI) RootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root)
	return pool
}

// CertPEM is c in PEM.
func CertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// KeyPEM is k in PEM (SEC 1).
func KeyPEM(k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func key() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func cert(tmpl, parent *x509.Certificate, k, parentKey *ecdsa.PrivateKey) *x509.Certificate {
	if parent == nil {
		parent, parentKey = tmpl, k
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}

// WriteFile writes b to dir/name (mode 0600) and returns the path; a
// failure fails tb.
func WriteFile(tb testing.TB, dir, name string, b []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}
