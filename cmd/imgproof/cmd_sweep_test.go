//go:build !js

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
)

// A sweep's state skips images verified under the same options key, so
// the key must change with every file of trust, named by a flag or by a
// policy, even when its name does not.
func TestSweepOptionsKeyCoversTrust(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	policy := write("trustpolicy.json", "policy")
	crl := write("ca.crl", "crl")
	write("store/x509/ca/test/ca.pem", "cert")
	store := filepath.Join(dir, "store")
	cmd := &cobra.Command{}
	var p, s string
	var crls []string
	cmd.Flags().StringVar(&p, "trust-policy", "", "")
	cmd.Flags().StringVar(&s, "trust-store", "", "")
	cmd.Flags().StringArrayVar(&crls, "crl", nil, "")
	for flag, v := range map[string]string{"trust-policy": policy, "trust-store": store, "crl": crl} {
		if err := cmd.Flags().Set(flag, v); err != nil {
			t.Fatal(err)
		}
	}
	keyDocs := [][]byte{[]byte("policy key")}
	key := func() []byte {
		t.Helper()
		k, err := sweepOptionsKey(cmd, keyDocs)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key()
	if !bytes.Equal(key(), base) {
		t.Fatal("the key of the same options differs")
	}
	for name, change := range map[string]func(){
		"trust policy":             func() { write("trustpolicy.json", "policy 2") },
		"CRL":                      func() { write("ca.crl", "crl 2") },
		"trust store certificate":  func() { write("store/x509/ca/test/ca.pem", "cert 2") },
		"trust store, a file more": func() { write("store/x509/ca/test/more.pem", "cert") },
		"key a policy names":       func() { keyDocs = [][]byte{[]byte("policy key 2")} },
	} {
		change()
		if bytes.Equal(key(), base) {
			t.Errorf("%s changed and the options key did not", name)
		}
		// Back to the base options.
		write("trustpolicy.json", "policy")
		write("ca.crl", "crl")
		write("store/x509/ca/test/ca.pem", "cert")
		os.Remove(filepath.Join(dir, "store/x509/ca/test/more.pem"))
		keyDocs = [][]byte{[]byte("policy key")}
		if !bytes.Equal(key(), base) {
			t.Fatalf("after %s: the base options give another key", name)
		}
	}
	if err := os.RemoveAll(store); err != nil {
		t.Fatal(err)
	}
	if _, err := sweepOptionsKey(cmd, keyDocs); err == nil {
		t.Error("a missing trust store gave a key")
	}
}
