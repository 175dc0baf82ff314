package main

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// claimOptions are the JavaScript options that mirror the CLI's
// --attestation, --key, --policy, --threshold, --certificate-* and
// --trusted-root flags:
//
//	attestations: Blob[]        DSSE envelopes, JSON lines or sigstore bundles
//	keys:         (Blob|string)[]  trusted PEM public keys
//	policy:       Blob|string   policy (YAML or JSON); its keys must be inline PEM
//	threshold:    number
//	certificateIdentity, certificateIdentityRegexp,
//	certificateOidcIssuer, certificateOidcIssuerRegexp: string
//
// Each is read whole (images never are), within the limit of its kind:
// key-file-bytes, policy-file-bytes or claim-file-bytes.
type claimOptions struct {
	opts attest.Options
	lim  *limits.Limits
}

// parseClaimOptions reads the attestation options into an attest.Trust,
// as the CLI reads its flags, and builds the options from it as the CLI
// does, under lim (nil means the defaults). Unreadable options are
// errors, as usage errors are in the CLI.
func parseClaimOptions(v js.Value, lim *limits.Limits) (*claimOptions, error) {
	if lim == nil {
		d := limits.Default()
		lim = &d
	}
	c := &claimOptions{lim: lim}
	if v.Type() != js.TypeObject {
		return c, nil
	}
	t := &attest.Trust{Limits: lim}
	if th := v.Get("threshold"); th.Type() == js.TypeNumber {
		t.Threshold = th.Int()
	}
	for i, k := range list(v.Get("keys")) {
		data, name, err := readClaimFile(k, fmt.Sprintf("keys[%d]", i), limits.KeyFile, lim.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("imgproof: key: %w", err)
		}
		t.Keys = append(t.Keys, attest.File{Name: name, Data: data})
	}
	t.Identity = policy.Identity{
		Subject:       str(v.Get("certificateIdentity")),
		SubjectRegExp: str(v.Get("certificateIdentityRegexp")),
		Issuer:        str(v.Get("certificateOidcIssuer")),
		IssuerRegExp:  str(v.Get("certificateOidcIssuerRegexp")),
	}
	if p := v.Get("policy"); !p.IsUndefined() && !p.IsNull() {
		data, name, err := readClaimFile(p, "policy", limits.PolicyFile, lim.PolicyFile)
		if err != nil {
			return nil, fmt.Errorf("imgproof: policy: %w", err)
		}
		t.Policy = &attest.File{Name: name, Data: data}
		t.PolicyKey = func(i int, path string) (attest.File, error) {
			return attest.File{}, fmt.Errorf("keys[%d] names a file (%s); in the browser, give keys inline or with the keys option", i, path)
		}
	}
	for i, f := range list(v.Get("attestations")) {
		data, name, err := readClaimFile(f, fmt.Sprintf("attestations[%d]", i), limits.ClaimFile, lim.ClaimFile)
		if err != nil {
			return nil, fmt.Errorf("imgproof: attestation: %w", err)
		}
		t.Attestations = append(t.Attestations, attest.File{Name: name, Data: data})
	}
	opts, err := t.Options()
	if err != nil {
		return nil, optionError(err)
	}
	c.opts = *opts
	return c, nil
}

// optionError words an unusable input of attest.Trust in terms of the
// options.
func optionError(err error) error {
	var te *attest.TrustError
	if !errors.As(err, &te) {
		return err
	}
	switch te.Input {
	case attest.InputThreshold:
		return errors.New("imgproof: threshold must be at least 1")
	case attest.InputIdentity:
		return errors.New("imgproof: keyless verification needs one of certificateIdentity[Regexp] and one of certificateOidcIssuer[Regexp]")
	case attest.InputKey:
		return fmt.Errorf("imgproof: key: %w", te.Err)
	case attest.InputAttestation:
		return fmt.Errorf("imgproof: attestation: %w", te.Err)
	case attest.InputPolicy, attest.InputPolicyKeyFile:
		return fmt.Errorf("imgproof: policy %s: %w", te.Name, te.Err)
	default:
		return fmt.Errorf("imgproof: policy: %w", te.Err)
	}
}

// trust is the trust the claims are checked with as the CLI checks them:
// always, so that claims found in the image (BuildKit attestations, cosign
// tags, referrers) are reported even when no trust is configured.
//
// Sigstore bundles and keyless trust need sigstore-go, which does not build
// for the browser: with keyless trust the report gets the attest package's
// UNVERIFIABLE "not available in this build" finding, and a bundle checked
// against a trusted key is UNVERIFIABLE too. Without trust, bundles are
// skipped exactly as in the CLI.
func (c *claimOptions) trust() *attest.Options {
	opts := c.opts
	if !opts.Keyless {
		opts.Bundles = unavailableBundles
	}
	opts.Limits = c.lim
	return &opts
}

func unavailableBundles(context.Context, []byte, string) attest.BundleResult {
	return attest.BundleResult{Finding: &verify.Finding{Code: attest.CodeUnsupportedAttachment, Severity: verify.SeverityUnverifiable,
		Message: "sigstore bundle verification is not available in the WebAssembly build; use the imgproof CLI"}}
}

// readClaimFile reads a small Blob whole, or takes a string as it is, up
// to max bytes: more is the *limits.Error of kind. name is the Blob's file
// name when it has one.
func readClaimFile(v js.Value, def string, kind limits.Kind, max int64) ([]byte, string, error) {
	if v.Type() == js.TypeString {
		// A string's UTF-8 is at least as long as its UTF-16 length:
		// measure before copying it out of JavaScript.
		if int64(js.Global().Get("Object").Invoke(v).Get("length").Int()) > max {
			return nil, def, limits.Exceeded(kind, max, def)
		}
		data := []byte(v.String())
		if int64(len(data)) > max {
			return nil, def, limits.Exceeded(kind, max, def)
		}
		return data, def, nil
	}
	if v.Type() != js.TypeObject || !v.InstanceOf(js.Global().Get("Blob")) {
		return nil, def, fmt.Errorf("%s is neither a Blob nor a string", def)
	}
	b := newJSBlob(v)
	name := blobName(v, def)
	if b.Size() > max {
		return nil, name, limits.Exceeded(kind, max, name)
	}
	data := make([]byte, b.Size())
	if n, err := b.ReadAt(data, 0); n != len(data) {
		return nil, name, fmt.Errorf("%s: %w", name, err)
	}
	return data, name, nil
}

// list returns the items of an array or FileList; a single item is a list
// of one; undefined and null are empty.
func list(v js.Value) []js.Value {
	if v.IsUndefined() || v.IsNull() {
		return nil
	}
	if v.Type() == js.TypeObject && v.Get("length").Type() == js.TypeNumber && !v.InstanceOf(js.Global().Get("Blob")) {
		out := make([]js.Value, v.Get("length").Int())
		for i := range out {
			out[i] = v.Index(i)
		}
		return out
	}
	return []js.Value{v}
}

func str(v js.Value) string {
	if v.Type() == js.TypeString {
		return v.String()
	}
	return ""
}
