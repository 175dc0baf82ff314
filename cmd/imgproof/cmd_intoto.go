//go:build !js

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/intotolayout"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

var inTotoFlags struct {
	layout         string
	layoutKeys     []string
	linkDir        string
	product        string
	productName    string
	params         []string
	runInspections bool
	output         string
	limits         limitFlags
}

var inTotoCmd = &cobra.Command{
	Use:   "in-toto",
	Short: "Classic in-toto supply-chain layouts",
}

var inTotoVerifyCmd = &cobra.Command{
	Use:   "verify --layout root.layout --layout-key owner.pub --link-dir DIR [--product FILE]",
	Short: "Verify an in-toto layout, its links and artifact rules, like in-toto-verify",
	Long: `in-toto verify checks, like in-toto-verify: that every --layout-key signed
the layout, that it has not expired, that each step's links are signed by
enough of the functionaries the layout names, that links of a step agree,
and that every material and product rule of the steps holds.

Inspections run commands named by the layout; they run (in the current
directory) only with --run-inspections, and a layout that has inspections is
otherwise UNVERIFIABLE.

--product FILE additionally requires FILE (for example an image tarball) to be
a final product of the supply chain, by sha256; --product-name also fixes its
name.

Exit codes: 0 VERIFIED, 1 FAILED, 2 UNVERIFIABLE, 64 usage error.`,
	Args: exactArgs(0),
	RunE: runInTotoVerify,
}

func init() {
	f := inTotoVerifyCmd.Flags()
	f.StringVar(&inTotoFlags.layout, "layout", "", "root layout `file`")
	f.StringArrayVar(&inTotoFlags.layoutKeys, "layout-key", nil, "layout owner's public key `file`, PEM or the securesystemslib JSON of in-toto-keygen (repeatable; every key must have signed)")
	f.StringVar(&inTotoFlags.linkDir, "link-dir", ".", "`directory` holding the link files")
	f.StringVar(&inTotoFlags.product, "product", "", "`file` that must be a final product of the supply chain")
	f.StringVar(&inTotoFlags.productName, "product-name", "", "the product's `name` in the last step's link")
	f.StringArrayVar(&inTotoFlags.params, "param", nil, "layout parameter `NAME=VALUE` (repeatable)")
	f.BoolVar(&inTotoFlags.runInspections, "run-inspections", false, "run the layout's inspection commands in the current directory")
	f.StringVarP(&inTotoFlags.output, "output", "o", "text", "output format: text or json")
	addLimitFlag(f, &inTotoFlags.limits)
	inTotoCmd.AddCommand(inTotoVerifyCmd)
	rootCmd.AddCommand(inTotoCmd)
}

func runInTotoVerify(cmd *cobra.Command, _ []string) error {
	fl := &inTotoFlags
	if fl.output != "text" && fl.output != "json" {
		return usageError{fmt.Errorf("--output must be text or json, not %q", fl.output)}
	}
	if fl.layout == "" || len(fl.layoutKeys) == 0 {
		return usageError{errors.New("--layout and --layout-key are required")}
	}
	if fl.productName != "" && fl.product == "" {
		return usageError{errors.New("--product-name needs --product")}
	}
	lim, err := fl.limits.apply()
	if err != nil {
		return err
	}
	opts := intotolayout.Options{Layout: fl.layout, LinkDir: fl.linkDir, RunInspections: fl.runInspections,
		ProductName: fl.productName, Params: map[string]string{}, Limits: lim}
	for _, k := range fl.layoutKeys {
		b, err := readSmall(k, limits.KeyFile, lim.KeyFile)
		if err != nil {
			return usageError{err}
		}
		opts.LayoutKeys = append(opts.LayoutKeys, b)
	}
	for _, p := range fl.params {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return usageError{fmt.Errorf("--param %q: want NAME=VALUE", p)}
		}
		opts.Params[name] = value
	}
	if fl.product != "" {
		f, err := os.Open(fl.product)
		if err != nil {
			return usageError{err}
		}
		defer f.Close()
		opts.Product = f
	}
	res, err := intotolayout.Verify(cmd.Context(), opts)
	if errors.Is(err, intotolayout.ErrUsage) {
		return usageError{err}
	}
	rep := inTotoReport(fl.layout, fl.product, res, err)
	if err := writeInTotoReport(cmd.OutOrStdout(), fl.output, rep, res); err != nil {
		return err
	}
	if code := rep.Verdict.ExitCode(); code != 0 {
		return exitError{code}
	}
	return nil
}

func inTotoReport(layout, product string, res *intotolayout.Result, verr error) *attest.Report {
	rep := &attest.Report{Report: &verify.Report{Schema: verify.SchemaVersion, Source: verify.Source{Path: layout, Format: "in-toto-layout"},
		Images: []verify.Image{}, Findings: []verify.Finding{}}}
	a := attest.Attestation{Kind: attest.KindInTotoLayout, Origin: layout, Signers: []string{}, Binds: []attest.Binding{},
		Checks: res.Checks, Status: attest.StatusFailed}
	if a.Checks == nil {
		a.Checks = []attest.Check{}
	}
	for _, c := range a.Checks {
		if c.Status == attest.CheckPass {
			rep.Pass()
		}
	}
	var e *intotolayout.Error
	switch {
	case verr == nil && res.Verified && rep.Checks > 0:
		rep.Verdict = verify.Verified
		a.Status = attest.StatusVerified
		a.Signers = res.LayoutSigners
		if res.ProductDigest != "" {
			a.Binds = append(a.Binds, attest.Binding{Digest: res.ProductDigest, Node: "artifact", Path: product})
		}
	case errors.As(verr, &e):
		rep.Add(e.Finding(layout, product))
	default:
		msg := "no check ran"
		if verr != nil {
			msg = verr.Error()
		}
		rep.Add(verify.Finding{Code: verify.CodeInternal, Severity: verify.SeverityUnverifiable, Path: layout, Message: msg})
	}
	rep.Attestations = []attest.Attestation{a}
	if rep.Verdict == "" {
		rep.Verdict = verify.Unverifiable
		for _, f := range rep.Findings {
			if f.Severity == verify.SeverityError {
				rep.Verdict = verify.Failed
			}
		}
	}
	return rep
}

func writeInTotoReport(w io.Writer, output string, rep *attest.Report, res *intotolayout.Result) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*attest.Report
			InToto *intotolayout.Result `json:"inToto"`
		}{rep, res})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", rep.Verdict, rep.Source.Path)
	if len(res.Steps) > 0 {
		fmt.Fprintf(&b, "  steps:     %s\n", strings.Join(res.Steps, ", "))
	}
	if res.Expires != "" {
		fmt.Fprintf(&b, "  expires:   %s\n", res.Expires)
	}
	if res.ProductMatch != "" {
		fmt.Fprintf(&b, "  product:   %s = %s\n", res.ProductMatch, res.ProductDigest)
	}
	writeChecks(&b, res.Checks)
	writeFindings(&b, rep.Findings)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeChecks writes one line per check: status, name and message.
func writeChecks(b *strings.Builder, checks []attest.Check) {
	for _, c := range checks {
		fmt.Fprintf(b, "  %-4s %s", c.Status, c.Name)
		if c.Message != "" {
			fmt.Fprintf(b, ": %s", c.Message)
		}
		b.WriteString("\n")
	}
}

// writeFindings writes one line per finding: code and message.
func writeFindings(b *strings.Builder, findings []verify.Finding) {
	for _, f := range findings {
		fmt.Fprintf(b, "  %s %s\n", f.Code, f.Message)
	}
}
