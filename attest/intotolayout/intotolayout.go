//go:build !js

// Package intotolayout verifies classic in-toto supply-chain layouts
// (in-toto specification v0.9 / ITE-5 compatible metadata) with the
// in_toto package of in-toto-golang, as in-toto-verify does: the layout's
// signatures by the owner keys, its expiry, the link signatures and
// thresholds of every step, sublayouts, and the artifact rules of steps
// and inspections. It can also check that a product, such as an image
// tarball, is one of the final products the supply chain recorded.
//
// The stages of in_toto.InTotoVerify are run one by one, in the same order,
// so each becomes a reported check; nothing is printed. Inspections run
// commands named by the layout, so they run only when Options allow it;
// a layout with inspections is otherwise unverifiable, never verified.
//
// in-toto-golang's in_toto package does not build for js/wasm; every file
// here carries //go:build !js.
package intotolayout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/in-toto/in-toto-golang/in_toto"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// Options select what to verify.
type Options struct {
	// Layout is the path of the root layout.
	Layout string
	// LayoutKeys are the owner's public keys, in PEM or as the
	// securesystemslib JSON key files that in-toto-keygen writes; every one
	// must have signed the layout, as in-toto-verify requires.
	LayoutKeys [][]byte
	// LinkDir holds the link files, named <step>.<keyid prefix>.link.
	LinkDir string
	// Params substitute {NAME} in the layout's rules and commands.
	Params map[string]string
	// RunInspections allows the layout's inspection commands to run, in the
	// current directory, as in-toto-verify does.
	RunInspections bool
	// Product, when not nil, must be one of the final products.
	Product io.Reader
	// ProductName, when set, is the product's name in the last step's link;
	// without it any final product with the same digest matches.
	ProductName string
	// Limits bounds the layout, link and key files (AttestationDocument,
	// JSONDepth, KeyFile); nil means limits.Default().
	Limits *limits.Limits
}

// Errors, matched with errors.Is.
var (
	ErrUsage        = errors.New("invalid options")
	ErrMalformed    = errors.New("malformed in-toto metadata")
	ErrVerify       = errors.New("in-toto verification failed")
	ErrUnverifiable = errors.New("in-toto verification could not run")
)

// Error is a failed check.
type Error struct {
	Check string
	Kind  error
	Err   error
}

func (e *Error) Error() string { return e.Check + ": " + e.Err.Error() }

// Unwrap returns the category and the cause.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Result is what the verification established.
type Result struct {
	Verified bool `json:"verified"`
	// Expires is the layout's expiry.
	Expires string `json:"expires,omitempty"`
	// Steps and Inspections are the names in the layout.
	Steps       []string `json:"steps"`
	Inspections []string `json:"inspections,omitempty"`
	// LayoutSigners are the key IDs of the owner keys that signed.
	LayoutSigners []string `json:"layoutSigners"`
	// Products are the final products: name to sha256 hex.
	Products map[string]string `json:"products"`
	// ProductDigest is the sha256 of the given product, ProductMatch its
	// name among the final products.
	ProductDigest string         `json:"productDigest,omitempty"`
	ProductMatch  string         `json:"productMatch,omitempty"`
	Checks        []attest.Check `json:"checks"`
}

func (r *Result) pass(name, msg string) {
	r.Checks = append(r.Checks, attest.Check{Name: name, Status: attest.CheckPass, Message: msg})
}

func (r *Result) fail(name string, kind, err error) error {
	r.Verified = false
	r.Checks = append(r.Checks, attest.Check{Name: name, Status: attest.CheckFail, Message: err.Error()})
	return &Error{Check: name, Kind: kind, Err: err}
}

// Verify runs the in-toto verification workflow. The Result is never nil;
// the error is an *Error unless verification succeeded.
func Verify(ctx context.Context, opts Options) (res *Result, err error) {
	res = &Result{Steps: []string{}, LayoutSigners: []string{}, Products: map[string]string{}}
	defer func() {
		// in_toto panics on some inconsistent inputs; a panic is a failure.
		if p := recover(); p != nil {
			err = res.fail("in-toto", ErrVerify, fmt.Errorf("in-toto-golang panicked: %v", p))
		}
	}()
	if opts.Layout == "" || len(opts.LayoutKeys) == 0 {
		return res, res.fail("options", ErrUsage, errors.New("a layout and at least one layout key are required"))
	}
	if opts.LinkDir == "" {
		opts.LinkDir = "."
	}
	if err := ctx.Err(); err != nil {
		return res, res.fail("options", ErrUsage, err)
	}

	lim := limits.Default()
	if opts.Limits != nil {
		lim = *opts.Limits
	}
	owners := make([]ownerKey, 0, len(opts.LayoutKeys))
	for i, data := range opts.LayoutKeys {
		k, err := loadOwnerKey(data, fmt.Sprintf("layout key %d", i+1), lim)
		if err != nil {
			return res, res.fail("layout-keys", ErrUsage, err)
		}
		owners = append(owners, k)
	}

	layoutData, err := strictFile(opts.Layout, lim)
	if err != nil {
		return res, res.fail("layout-parse", ErrMalformed, err)
	}
	layoutEnv, err := in_toto.LoadMetadata(opts.Layout)
	if err != nil {
		return res, res.fail("layout-parse", ErrMalformed, fmt.Errorf("%s: %w", opts.Layout, err))
	}
	layoutKeys := keysBySignature(owners, layoutEnv.Sigs())
	res.pass("layout-parse", opts.Layout)

	// The stages of in_toto.InTotoVerify, in its order.
	if err := verifyLayoutSignatures(opts.Layout, layoutData, layoutEnv, layoutKeys); err != nil {
		return res, res.fail("layout-signature", ErrVerify, err)
	}
	for id := range layoutKeys {
		res.LayoutSigners = append(res.LayoutSigners, id)
	}
	sort.Strings(res.LayoutSigners)
	res.pass("layout-signature", fmt.Sprintf("signed by all %d owner key(s)", len(layoutKeys)))

	_, useDSSE := layoutEnv.(*in_toto.Envelope)
	layout, ok := layoutEnv.GetPayload().(in_toto.Layout)
	if !ok {
		return res, res.fail("layout-parse", ErrMalformed, in_toto.ErrNotLayout)
	}
	res.Expires = layout.Expires
	for _, s := range layout.Steps {
		res.Steps = append(res.Steps, s.Name)
	}
	for _, s := range layout.Inspect {
		res.Inspections = append(res.Inspections, s.Name)
	}
	if err := in_toto.VerifyLayoutExpiration(layout); err != nil {
		return res, res.fail("layout-expiry", ErrVerify, err)
	}
	res.pass("layout-expiry", "expires "+layout.Expires)

	if layout, err = in_toto.SubstituteParameters(layout, opts.Params); err != nil {
		return res, res.fail("parameters", ErrVerify, err)
	}
	if len(layout.Inspect) > 0 && !opts.RunInspections {
		return res, res.fail("inspections", ErrUnverifiable, fmt.Errorf("the layout has %d inspection(s) (%s) that run commands; allow them to run to verify it",
			len(layout.Inspect), strings.Join(res.Inspections, ", ")))
	}
	if len(layout.Steps) == 0 {
		return res, res.fail("steps", ErrVerify, errors.New("the layout has no steps: it proves nothing"))
	}

	rootPool, interPool, err := in_toto.LoadLayoutCertificates(layout, nil)
	if err != nil {
		return res, res.fail("layout-certificates", ErrMalformed, err)
	}
	if err := strictLinks(opts.LinkDir, layout, lim); err != nil {
		return res, res.fail("links-parse", ErrMalformed, err)
	}
	stepsMetadata, err := in_toto.LoadLinksForLayout(layout, opts.LinkDir)
	if err != nil {
		return res, res.fail("links-parse", ErrMalformed, err)
	}
	verified, err := in_toto.VerifyLinkSignatureThesholds(layout, stepsMetadata, rootPool, interPool)
	if err != nil {
		return res, res.fail("link-signatures", ErrVerify, err)
	}
	res.pass("link-signatures", fmt.Sprintf("thresholds met for %d step(s)", len(layout.Steps)))

	subVerified, err := in_toto.VerifySublayouts(layout, verified, opts.LinkDir, nil, false)
	if err != nil {
		return res, res.fail("sublayouts", ErrVerify, err)
	}
	reduced, err := in_toto.ReduceStepsMetadata(layout, subVerified)
	if err != nil {
		return res, res.fail("link-agreement", ErrVerify, err)
	}
	res.pass("link-agreement", "links of each step agree on materials and products")
	res.commandAlignment(layout, reduced)

	if err := in_toto.VerifyArtifacts(stepsAsItems(layout), reduced); err != nil {
		return res, res.fail("artifact-rules", ErrVerify, err)
	}
	res.pass("artifact-rules", "material and product rules of every step hold")

	if len(layout.Inspect) > 0 {
		inspected, err := in_toto.RunInspections(layout, "", false, useDSSE)
		if err != nil {
			return res, res.fail("inspections", ErrVerify, err)
		}
		for k, v := range reduced {
			inspected[k] = v
		}
		if err := in_toto.VerifyArtifacts(inspectionsAsItems(layout), inspected); err != nil {
			return res, res.fail("inspection-rules", ErrVerify, err)
		}
		res.pass("inspections", fmt.Sprintf("%d inspection(s) ran and their rules hold", len(layout.Inspect)))
	}

	summary, err := in_toto.GetSummaryLink(layout, reduced, "", useDSSE)
	if err != nil {
		return res, res.fail("summary", ErrVerify, err)
	}
	link, ok := summary.GetPayload().(in_toto.Link)
	if !ok {
		return res, res.fail("summary", ErrVerify, errors.New("summary is not a link"))
	}
	for name, h := range link.Products {
		if s, ok := h["sha256"]; ok {
			res.Products[name] = s
		}
	}
	if opts.Product != nil {
		if err := res.matchProduct(opts.Product, opts.ProductName); err != nil {
			return res, err
		}
	}
	res.Verified = true
	return res, nil
}

// commandAlignment records, as a passing or skipped check, whether each
// link's command equals the step's expected command. in-toto treats a
// difference as a warning only.
func (res *Result) commandAlignment(layout in_toto.Layout, reduced map[string]in_toto.Metadata) {
	var differ []string
	for _, s := range layout.Steps {
		m, ok := reduced[s.Name]
		if !ok {
			continue
		}
		if l, ok := m.GetPayload().(in_toto.Link); ok && strings.Join(l.Command, " ") != strings.Join(s.ExpectedCommand, " ") {
			differ = append(differ, s.Name)
		}
	}
	if len(differ) == 0 {
		res.pass("expected-commands", "every link ran the expected command")
		return
	}
	res.Checks = append(res.Checks, attest.Check{Name: "expected-commands", Status: attest.CheckSkip,
		Message: "warning only: commands differ from the layout in step(s) " + strings.Join(differ, ", ")})
}

// matchProduct requires the product to be a final product.
func (res *Result) matchProduct(r io.Reader, name string) error {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return res.fail("product", ErrUnverifiable, fmt.Errorf("reading product: %w", err))
	}
	sum := hex.EncodeToString(h.Sum(nil))
	res.ProductDigest = "sha256:" + sum
	if name != "" {
		want, ok := res.Products[name]
		if !ok {
			return res.fail("product", ErrVerify, fmt.Errorf("%q is not a final product of the supply chain", name))
		}
		if want != sum {
			return res.fail("product", ErrVerify, fmt.Errorf("product %q: the supply chain recorded sha256:%s, the file is sha256:%s", name, want, sum))
		}
		res.ProductMatch = name
		res.pass("product", fmt.Sprintf("%q is sha256:%s", name, sum))
		return nil
	}
	var names []string
	for n, d := range res.Products {
		if d == sum {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return res.fail("product", ErrVerify, fmt.Errorf("no final product of the supply chain has sha256:%s", sum))
	}
	res.ProductMatch = names[0]
	res.pass("product", fmt.Sprintf("sha256:%s is the final product %q", sum, names[0]))
	return nil
}

func stepsAsItems(l in_toto.Layout) []interface{} {
	out := make([]interface{}, len(l.Steps))
	for i, s := range l.Steps {
		out[i] = s
	}
	return out
}

func inspectionsAsItems(l in_toto.Layout) []interface{} {
	out := make([]interface{}, len(l.Inspect))
	for i, s := range l.Inspect {
		out[i] = s
	}
	return out
}

// strictFile reads a metadata file and rejects it when it is too large
// (over lim.AttestationDocument), or when JSON parsers could disagree on
// it (duplicate keys, invalid UTF-8, trailing data).
func strictFile(path string, lim limits.Limits) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, lim.AttestationDocument+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > lim.AttestationDocument {
		return nil, limits.Exceeded(limits.AttestationDocument, lim.AttestationDocument, path)
	}
	if err := strictjson.Check(data, lim.JSONDepth); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// strictLinks applies strictFile to every link file the layout's steps
// may load.
func strictLinks(dir string, layout in_toto.Layout, lim limits.Limits) error {
	for _, s := range layout.Steps {
		matches, err := filepath.Glob(filepath.Join(dir, globEscape(s.Name)+".*.link"))
		if err != nil {
			return err
		}
		for _, m := range matches {
			if _, err := strictFile(m, lim); err != nil {
				return err
			}
		}
	}
	return nil
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}
