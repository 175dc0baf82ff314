//go:build !js

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/sigstore"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// trustedRootEnv names a default trusted_root.json for keyless checks.
const trustedRootEnv = "IMGPROOF_TRUSTED_ROOT"

// blobFlags are the flags of verify-blob and verify-bundle.
type blobFlags struct {
	bundle, signature, envelope string
	key                         string
	identity, identityRegexp    string
	issuer, issuerRegexp        string
	trustedRoots                []string
	predicateType               string
	github                      githubFlags
	output                      string
	staging                     bool
	limits                      limitFlags
}

var verifyBlobFlags blobFlags

var verifyBlobCmd = &cobra.Command{
	Use:   "verify-blob (--bundle B | --signature S | --envelope E) (--key K | --certificate-identity I --certificate-oidc-issuer O | --owner ORG | --repo ORG/NAME) [--trusted-root R]... ARTIFACT",
	Short: "Verify a signature, attestation or sigstore bundle over a file, offline",
	Long: `verify-blob verifies a signature over ARTIFACT, as cosign verify-blob and
verify-blob-attestation do, but fully offline.

  --bundle B     a sigstore bundle (v0.1 to v0.3): a message signature over
                 ARTIFACT, or a DSSE in-toto attestation whose subject is ARTIFACT
  --signature S  a detached signature (raw or base64), with --key
  --envelope E   a DSSE envelope with an in-toto statement, with --key

Keyless bundles need --certificate-identity (or --certificate-identity-regexp)
and --certificate-oidc-issuer (or --certificate-oidc-issuer-regexp), and a
trusted root (--trusted-root, or the file named by $IMGPROOF_TRUSTED_ROOT).
Regular expressions must match the whole value. --trusted-root may be given
more than once (for example Sigstore's public-good instance and GitHub's):
a bundle verifies if it verifies against one of them.

GitHub artifact attestations (actions/attest-build-provenance) are checked
as gh attestation verify checks them, with --owner ORG or --repo ORG/NAME
instead of an identity: the certificate's source repository owner (and with
--repo the source repository) must match, its issuer must be
--cert-oidc-issuer, and its SAN, which names the workflow that signed, must
lie under github.com/ORG/ (or ORG/NAME/). For a reusable workflow, whose SAN
names another repository, give --signer-repo or --signer-workflow (or
--certificate-identity[-regexp]). The statement's predicate type must be
--predicate-type (SLSA provenance v1 by default). --bundle may be the JSON
Lines file gh attestation download writes: it verifies if one of its bundles
does, and bundles of another predicate type are skipped.

ARTIFACT is a file, or algorithm:hex for a digest.

Exit codes: 0 VERIFIED, 1 FAILED, 2 UNVERIFIABLE, 64 usage error.`,
	Args: exactArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		return runVerifyBlob(cmd, &verifyBlobFlags, args[0], false)
	},
}

var verifyBundleFlags blobFlags

// verifyBundleCmd speaks the sigstore-conformance client protocol.
var verifyBundleCmd = &cobra.Command{
	Use:   "verify-bundle --bundle B (--certificate-identity I --certificate-oidc-issuer O | --key K) [--trusted-root R] FILE_OR_DIGEST",
	Short: "Verify a sigstore bundle (the sigstore-conformance client protocol)",
	Long: `verify-bundle is verify-blob --bundle with the command line of the
sigstore-conformance test suite's client protocol. Verification is offline:
without --trusted-root, the file named by $IMGPROOF_TRUSTED_ROOT is used.

Exit codes: 0 VERIFIED, 1 FAILED, 2 UNVERIFIABLE, 64 usage error.`,
	Args: exactArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		return runVerifyBlob(cmd, &verifyBundleFlags, args[0], true)
	},
}

func init() {
	f := verifyBlobCmd.Flags()
	f.StringVar(&verifyBlobFlags.bundle, "bundle", "", "sigstore bundle `file`")
	f.StringVar(&verifyBlobFlags.signature, "signature", "", "detached signature `file` (raw or base64)")
	f.StringVar(&verifyBlobFlags.envelope, "envelope", "", "DSSE envelope `file`")
	addIdentityFlags(f, &verifyBlobFlags)
	f.StringVar(&verifyBlobFlags.predicateType, "type", "", "required in-toto predicate type `URI` (attestations only)")
	addGitHubFlags(f, &verifyBlobFlags.github)
	f.StringVarP(&verifyBlobFlags.output, "output", "o", "text", "output format: text or json")
	addLimitFlag(f, &verifyBlobFlags.limits)
	rootCmd.AddCommand(verifyBlobCmd)

	g := verifyBundleCmd.Flags()
	g.StringVar(&verifyBundleFlags.bundle, "bundle", "", "sigstore bundle `file`")
	addIdentityFlags(g, &verifyBundleFlags)
	g.BoolVar(&verifyBundleFlags.staging, "staging", false, "accepted for the protocol; needs --trusted-root, as verification is offline")
	g.StringVarP(&verifyBundleFlags.output, "output", "o", "text", "output format: text or json")
	addLimitFlag(g, &verifyBundleFlags.limits)
	rootCmd.AddCommand(verifyBundleCmd)
}

func addIdentityFlags(f *pflag.FlagSet, bf *blobFlags) {
	f.StringVar(&bf.key, "key", "", "PEM public key `file`")
	f.StringVar(&bf.identity, "certificate-identity", "", "expected certificate identity (subject alternative name), exact")
	f.StringVar(&bf.identityRegexp, "certificate-identity-regexp", "", "expected certificate identity, as a regular expression matching the whole value")
	f.StringVar(&bf.issuer, "certificate-oidc-issuer", "", "expected OIDC issuer of the certificate, exact")
	f.StringVar(&bf.issuerRegexp, "certificate-oidc-issuer-regexp", "", "expected OIDC issuer, as a regular expression matching the whole value")
	f.StringArrayVar(&bf.trustedRoots, "trusted-root", nil, "sigstore trusted_root.json `file`, repeatable: a bundle must verify against one (default $"+trustedRootEnv+")")
}

var digestArg = regexp.MustCompile(`^sha(256|384|512):[0-9a-f]+$`)

func runVerifyBlob(cmd *cobra.Command, bf *blobFlags, artifactArg string, bundleOnly bool) error {
	if bf.output != "text" && bf.output != "json" {
		return usageError{fmt.Errorf("--output must be text or json, not %q", bf.output)}
	}
	lim, err := bf.limits.apply()
	if err != nil {
		return err
	}
	mode, material, err := blobMaterial(bf, bundleOnly, lim)
	if err != nil {
		return err
	}
	p := sigstore.Policy{Identity: bf.identity, IdentityRegexp: bf.identityRegexp,
		Issuer: bf.issuer, IssuerRegexp: bf.issuerRegexp, PredicateType: bf.predicateType, Limits: lim}
	if p.GitHub, err = bf.github.criteria(); err != nil {
		return usageError{err}
	}
	if p.GitHub != nil {
		switch {
		case bf.key != "" || mode != "bundle":
			return usageError{errors.New("--owner and --repo select keyless signers of a --bundle, not a --key")}
		case bf.issuer != "" || bf.issuerRegexp != "":
			return usageError{errors.New("with --owner or --repo, give the issuer with --cert-oidc-issuer")}
		case bf.predicateType != "" && bf.github.predicateType != "" && bf.predicateType != bf.github.predicateType:
			return usageError{errors.New("--type and --predicate-type differ")}
		case bf.predicateType == "":
			p.PredicateType = bf.github.predicate()
		}
	}
	if bf.key != "" {
		if p.Key, err = readSmall(bf.key, limits.KeyFile, lim.KeyFile); err != nil {
			return usageError{err}
		}
	} else if mode != "bundle" {
		return usageError{fmt.Errorf("--%s needs --key; keyless verification needs a --bundle", mode)}
	}
	var roots [][]byte
	if mode == "bundle" {
		if roots, err = readRoots(bf.trustedRoots, lim); err != nil {
			return usageError{err}
		}
	}
	if bf.staging && len(roots) == 0 {
		return usageError{errors.New("--staging: verification is offline; give the staging trusted root with --trusted-root")}
	}
	if bf.key == "" && len(roots) == 0 {
		return usageError{errors.New("keyless verification needs --trusted-root (or $" + trustedRootEnv + ")")}
	}
	policies := []sigstore.Policy{p}
	if len(roots) > 0 {
		policies = policies[:0]
		for _, r := range roots {
			q := p
			q.TrustedRoot = r
			policies = append(policies, q)
		}
	}

	bundles := [][]byte{material}
	if mode == "bundle" {
		if bundles, err = splitBundles(material); err != nil {
			rep := blobReport(artifactArg, mode, &sigstore.Result{}, &sigstore.Error{Check: sigstore.CheckBundle, Kind: sigstore.ErrMalformed, Err: err})
			if werr := writeBlobReport(cmd.OutOrStdout(), bf.output, rep, &sigstore.Result{}); werr != nil {
				return werr
			}
			return exitError{rep.Verdict.ExitCode()}
		}
	}
	if len(bundles) == 1 && mode == "bundle" && sigstore.IsCosignSignature(material) {
		if material, err = convertCosign(material, artifactArg); err != nil {
			rep := blobReport(artifactArg, mode, &sigstore.Result{}, &sigstore.Error{Check: sigstore.CheckBundle, Kind: sigstore.ErrMalformed, Err: err})
			if werr := writeBlobReport(cmd.OutOrStdout(), bf.output, rep, &sigstore.Result{}); werr != nil {
				return werr
			}
			return exitError{rep.Verdict.ExitCode()}
		}
		bundles = [][]byte{material}
	}

	var results []blobAttempt
	for _, b := range bundles {
		best, err := verifyOneBlob(cmd.Context(), bf, mode, b, artifactArg, policies)
		if err != nil {
			return err
		}
		results = append(results, best)
	}
	rep, res := blobReports(artifactArg, mode, results)
	if err := writeBlobReport(cmd.OutOrStdout(), bf.output, rep, res); err != nil {
		return err
	}
	if code := rep.Verdict.ExitCode(); code != 0 {
		return exitError{code}
	}
	return nil
}

// blobAttempt is the outcome of one signature input.
type blobAttempt struct {
	res *sigstore.Result
	err error
}

// verifyOneBlob verifies one signature input under each policy (one per
// trusted root) until one verifies; otherwise it returns the failure that
// got furthest. An invalid policy is a usage error.
func verifyOneBlob(ctx context.Context, bf *blobFlags, mode string, material []byte, artifactArg string, policies []sigstore.Policy) (blobAttempt, error) {
	var best blobAttempt
	for _, p := range policies {
		art, closeArt, err := openArtifact(artifactArg)
		if err != nil {
			return best, usageError{err}
		}
		var res *sigstore.Result
		var verr error
		switch mode {
		case "bundle":
			res, verr = sigstore.Verify(ctx, material, art, p)
		case "signature":
			if art.Reader == nil {
				closeArt()
				return best, usageError{errors.New("--signature needs the artifact file, not a digest")}
			}
			if bf.predicateType != "" {
				closeArt()
				return best, usageError{errors.New("--type applies to attestations (--envelope or --bundle)")}
			}
			res, verr = sigstore.VerifySignature(ctx, material, art.Reader, p.Key, *p.Limits)
		case "envelope":
			res, verr = sigstore.VerifyEnvelope(ctx, material, art, p.Key, bf.predicateType, *p.Limits)
		}
		closeArt()
		var se *sigstore.Error
		if errors.As(verr, &se) && errors.Is(se, sigstore.ErrPolicy) {
			return best, usageError{verr}
		}
		a := blobAttempt{res: res, err: verr}
		if verr == nil && res.Verified || errors.As(verr, &se) && errors.Is(se, sigstore.ErrTrustedRoot) {
			// A trusted root that cannot be read fails every bundle alike.
			return a, nil
		}
		if best.res == nil || res.Passed() >= best.res.Passed() {
			best = a
		}
	}
	return best, nil
}

// splitBundles reads a bundle file: one JSON document, or JSON Lines of
// them as gh attestation download writes, each a bundle or an object that
// wraps one in "bundle" as GitHub's attestations API does. A file that is
// not a sequence of JSON documents is returned whole, for the verifier to
// report. More documents than limits.Attestations is an error.
func splitBundles(data []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	max := limits.Default().Attestations
	var out [][]byte
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			break
		}
		if err != nil {
			return [][]byte{data}, nil
		}
		if len(out) >= max {
			return nil, limits.Exceeded(limits.Attestations, int64(max), "bundle file")
		}
		var wrap struct {
			MediaType string          `json:"mediaType"`
			Bundle    json.RawMessage `json:"bundle"`
		}
		if json.Unmarshal(raw, &wrap) == nil && wrap.MediaType == "" && len(wrap.Bundle) > 0 && wrap.Bundle[0] == '{' {
			raw = wrap.Bundle
		}
		out = append(out, raw)
	}
	if len(out) == 0 {
		return [][]byte{data}, nil
	}
	return out, nil
}

// blobReports builds the report of every signature input. One input is
// reported as it stands. Of several (a JSON Lines file), as gh does, one
// that verifies suffices: the others' failures become informational, and
// bundles of another predicate type are skipped. It returns the result to
// describe in text output.
func blobReports(artifactArg, mode string, results []blobAttempt) (*attest.Report, *sigstore.Result) {
	if len(results) == 1 {
		return blobReport(artifactArg, mode, results[0].res, results[0].err), results[0].res
	}
	rep := &attest.Report{Report: &verify.Report{Schema: verify.SchemaVersion, Source: verify.Source{Path: artifactArg, Format: "blob"},
		Images: []verify.Image{}, Findings: []verify.Finding{}}, Attestations: []attest.Attestation{}}
	shown := results[len(results)-1].res
	anyVerified := false
	for _, r := range results {
		if r.err == nil && r.res.Verified {
			anyVerified, shown = true, r.res
			break
		}
	}
	otherTypes := 0
	for i, r := range results {
		sub := blobReport(artifactArg, mode, r.res, r.err)
		var se *sigstore.Error
		otherType := errors.As(r.err, &se) && se.Check == sigstore.CheckPayload && errors.Is(se, sigstore.ErrVerify)
		if otherType {
			otherTypes++
		}
		for _, a := range sub.Attestations {
			a.Origin = fmt.Sprintf("%s#%d", mode, i+1)
			rep.Attestations = append(rep.Attestations, a)
		}
		for _, f := range sub.Findings {
			f.Path = fmt.Sprintf("%s#%d", mode, i+1)
			if anyVerified || otherType {
				f.Severity = verify.SeverityInfo
				f.Message = "skipped: " + f.Message
			}
			rep.Add(f)
		}
		if r.err == nil && r.res.Verified {
			rep.Checks += sub.Checks
		}
	}
	if !anyVerified && otherTypes == len(results) {
		rep.Add(verify.Finding{Code: sigstore.CodePredicateNotAllowed, Severity: verify.SeverityError, Path: mode,
			Message: fmt.Sprintf("none of the %d bundles has the required predicate type", len(results))})
	}
	rep.Verdict = verify.Verified
	for _, f := range rep.Findings {
		switch {
		case f.Severity == verify.SeverityError:
			rep.Verdict = verify.Failed
		case f.Severity == verify.SeverityUnverifiable && rep.Verdict == verify.Verified:
			rep.Verdict = verify.Unverifiable
		}
	}
	if rep.Verdict == verify.Verified && !anyVerified {
		rep.Verdict = verify.Unverifiable
		rep.Add(verify.Finding{Code: verify.CodeNothingVerified, Severity: verify.SeverityUnverifiable, Path: mode,
			Message: fmt.Sprintf("none of the %d bundles verified", len(results))})
	}
	return rep, shown
}

// blobMaterial reads the one signature input that was given.
func blobMaterial(bf *blobFlags, bundleOnly bool, lim *limits.Limits) (mode string, data []byte, err error) {
	given := 0
	for _, s := range []string{bf.bundle, bf.signature, bf.envelope} {
		if s != "" {
			given++
		}
	}
	if given != 1 {
		if bundleOnly {
			return "", nil, usageError{errors.New("--bundle is required")}
		}
		return "", nil, usageError{errors.New("give exactly one of --bundle, --signature and --envelope")}
	}
	switch {
	case bf.bundle != "":
		mode, data, err = "bundle", nil, nil
		data, err = readSmall(bf.bundle, limits.ClaimFile, lim.ClaimFile)
	case bf.signature != "":
		mode = "signature"
		data, err = readSmall(bf.signature, limits.SignatureFile, lim.SignatureFile)
	default:
		mode = "envelope"
		data, err = readSmall(bf.envelope, limits.ClaimFile, lim.ClaimFile)
	}
	if err != nil {
		return "", nil, usageError{err}
	}
	return mode, data, nil
}

// readSmall reads a file of at most max bytes (one more is read to tell);
// a larger one is a *limits.Error of the kind given.
func readSmall(path string, kind limits.Kind, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, limits.Exceeded(kind, max, path)
	}
	return b, nil
}

// openArtifact opens ARTIFACT, or reads it as a digest when it has the
// form algorithm:hex and names no file.
func openArtifact(arg string) (sigstore.Artifact, func(), error) {
	if digestArg.MatchString(arg) {
		if _, err := os.Stat(arg); err != nil {
			return sigstore.Artifact{Digest: arg}, func() {}, nil
		}
	}
	f, err := os.Open(arg)
	if err != nil {
		return sigstore.Artifact{}, nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return sigstore.Artifact{}, nil, fmt.Errorf("%s is a directory", arg)
	}
	return sigstore.Artifact{Reader: f}, func() { f.Close() }, nil
}

// blobReport builds the core's report for one blob and its signature.
func blobReport(artifactArg, mode string, res *sigstore.Result, verr error) *attest.Report {
	rep := &attest.Report{Report: &verify.Report{Schema: verify.SchemaVersion, Source: verify.Source{Path: artifactArg, Format: "blob"},
		Images: []verify.Image{}, Findings: []verify.Finding{}}}
	kind := map[string]string{"bundle": attest.KindBundle, "signature": attest.KindSignature, "envelope": attest.KindDSSE}[mode]
	if res.Payload != nil && mode == "bundle" {
		kind = attest.KindBundleAttestation
	}
	a := res.Attestation(kind, mode)
	for _, c := range a.Checks {
		if c.Status == attest.CheckPass {
			rep.Pass()
		}
	}
	if res.Verified && res.ArtifactDigest != "" {
		a.Binds = append(a.Binds, attest.Binding{Digest: res.ArtifactDigest, Node: "artifact", Path: artifactArg})
	}
	rep.Attestations = []attest.Attestation{a}
	var se *sigstore.Error
	switch {
	case verr == nil && res.Verified && rep.Checks > 0:
		rep.Verdict = verify.Verified
	case errors.As(verr, &se):
		rep.Add(se.Finding(mode))
	case verr != nil:
		rep.Add(verify.Finding{Code: verify.CodeInternal, Severity: verify.SeverityUnverifiable, Path: mode, Message: verr.Error()})
	default:
		rep.Add(verify.Finding{Code: verify.CodeNothingVerified, Severity: verify.SeverityUnverifiable, Path: mode, Message: "no check ran"})
	}
	if rep.Verdict == "" {
		rep.Verdict = verify.Verified
		for _, f := range rep.Findings {
			switch f.Severity {
			case verify.SeverityError:
				rep.Verdict = verify.Failed
			case verify.SeverityUnverifiable:
				if rep.Verdict != verify.Failed {
					rep.Verdict = verify.Unverifiable
				}
			}
		}
		if rep.Verdict == verify.Verified {
			rep.Verdict = verify.Unverifiable
		}
	}
	return rep
}

func writeBlobReport(w io.Writer, output string, rep *attest.Report, res *sigstore.Result) error {
	if output == "json" {
		return writeJSON(w, rep)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", rep.Verdict, rep.Source.Path)
	if res.ArtifactDigest != "" {
		fmt.Fprintf(&b, "  artifact:  %s\n", res.ArtifactDigest)
	}
	for _, a := range rep.Attestations {
		if len(a.Signers) > 0 {
			fmt.Fprintf(&b, "  signer:    %s\n", strings.Join(a.Signers, ", "))
		}
		if a.PredicateType != "" {
			fmt.Fprintf(&b, "  predicate: %s\n", a.PredicateType)
		}
		if bd := a.Build; bd != nil {
			fmt.Fprintf(&b, "  repository: %s\n  commit:    %s\n  ref:       %s\n  workflow:  %s\n", bd.Repository, bd.Commit, bd.Ref, bd.Workflow)
		}
		if t := res.IntegratedTime(); !t.IsZero() {
			fmt.Fprintf(&b, "  logged:    %s\n", t.Format("2006-01-02T15:04:05Z"))
		}
		writeChecks(&b, a.Checks)
	}
	writeFindings(&b, rep.Findings)
	_, err := io.WriteString(w, b.String())
	return err
}

// convertCosign turns cosign's older bundle file into a sigstore bundle
// over the artifact's sha256.
func convertCosign(data []byte, artifactArg string) ([]byte, error) {
	cs, err := sigstore.ParseCosignSignature(data)
	if err != nil {
		return nil, fmt.Errorf("cosign bundle: %w", err)
	}
	var sum []byte
	if digestArg.MatchString(artifactArg) {
		if _, statErr := os.Stat(artifactArg); statErr != nil {
			hexDigest, ok := strings.CutPrefix(artifactArg, "sha256:")
			if !ok {
				return nil, errors.New("cosign bundle: the artifact digest must be sha256")
			}
			if sum, err = hex.DecodeString(hexDigest); err != nil {
				return nil, err
			}
		}
	}
	if sum == nil {
		f, err := os.Open(artifactArg)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return nil, err
		}
		sum = h.Sum(nil)
	}
	return sigstore.FromCosign(cs, sum)
}
