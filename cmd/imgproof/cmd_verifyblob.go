//go:build !js

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgproof/imgproof/attest/sigstore"
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
	trustedRoot                 string
	predicateType               string
	output                      string
	staging                     bool
}

var verifyBlobFlags blobFlags

var verifyBlobCmd = &cobra.Command{
	Use:   "verify-blob (--bundle B | --signature S | --envelope E) (--key K | --certificate-identity I --certificate-oidc-issuer O) [--trusted-root R] ARTIFACT",
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
Regular expressions must match the whole value.

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
	f.StringVarP(&verifyBlobFlags.output, "output", "o", "text", "output format: text or json")
	rootCmd.AddCommand(verifyBlobCmd)

	g := verifyBundleCmd.Flags()
	g.StringVar(&verifyBundleFlags.bundle, "bundle", "", "sigstore bundle `file`")
	addIdentityFlags(g, &verifyBundleFlags)
	g.BoolVar(&verifyBundleFlags.staging, "staging", false, "accepted for the protocol; needs --trusted-root, as verification is offline")
	g.StringVarP(&verifyBundleFlags.output, "output", "o", "text", "output format: text or json")
	rootCmd.AddCommand(verifyBundleCmd)
}

type flagSet interface {
	StringVar(p *string, name, value, usage string)
}

func addIdentityFlags(f flagSet, bf *blobFlags) {
	f.StringVar(&bf.key, "key", "", "PEM public key `file`")
	f.StringVar(&bf.identity, "certificate-identity", "", "expected certificate identity (subject alternative name), exact")
	f.StringVar(&bf.identityRegexp, "certificate-identity-regexp", "", "expected certificate identity, as a regular expression matching the whole value")
	f.StringVar(&bf.issuer, "certificate-oidc-issuer", "", "expected OIDC issuer of the certificate, exact")
	f.StringVar(&bf.issuerRegexp, "certificate-oidc-issuer-regexp", "", "expected OIDC issuer, as a regular expression matching the whole value")
	f.StringVar(&bf.trustedRoot, "trusted-root", "", "sigstore trusted_root.json `file` (default $"+trustedRootEnv+")")
}

var digestArg = regexp.MustCompile(`^sha(256|384|512):[0-9a-f]+$`)

func runVerifyBlob(cmd *cobra.Command, bf *blobFlags, artifactArg string, bundleOnly bool) error {
	if bf.output != "text" && bf.output != "json" {
		return usageError{fmt.Errorf("--output must be text or json, not %q", bf.output)}
	}
	mode, material, err := blobMaterial(bf, bundleOnly)
	if err != nil {
		return err
	}
	p := sigstore.Policy{Identity: bf.identity, IdentityRegexp: bf.identityRegexp,
		Issuer: bf.issuer, IssuerRegexp: bf.issuerRegexp, PredicateType: bf.predicateType}
	if bf.key != "" {
		if p.Key, err = readSmall(bf.key, 1<<20); err != nil {
			return usageError{err}
		}
	} else if mode != "bundle" {
		return usageError{fmt.Errorf("--%s needs --key; keyless verification needs a --bundle", mode)}
	}
	rootPath := bf.trustedRoot
	if rootPath == "" {
		rootPath = os.Getenv(trustedRootEnv)
	}
	if rootPath != "" && mode == "bundle" {
		if p.TrustedRoot, err = readSmall(rootPath, 16<<20); err != nil {
			return usageError{err}
		}
	}
	if bf.staging && rootPath == "" {
		return usageError{errors.New("--staging: verification is offline; give the staging trusted root with --trusted-root")}
	}
	if bf.key == "" && len(p.TrustedRoot) == 0 {
		return usageError{errors.New("keyless verification needs --trusted-root (or $" + trustedRootEnv + ")")}
	}

	if mode == "bundle" && sigstore.IsCosignSignature(material) {
		if material, err = convertCosign(material, artifactArg); err != nil {
			rep := blobReport(artifactArg, mode, &sigstore.Result{}, &sigstore.Error{Check: sigstore.CheckBundle, Kind: sigstore.ErrMalformed, Err: err})
			if werr := writeBlobReport(cmd.OutOrStdout(), bf.output, rep, &sigstore.Result{}); werr != nil {
				return werr
			}
			return exitError{rep.Verdict.ExitCode()}
		}
	}

	art, closeArt, err := openArtifact(artifactArg)
	if err != nil {
		return usageError{err}
	}
	defer closeArt()

	ctx := cmd.Context()
	var res *sigstore.Result
	var verr error
	switch mode {
	case "bundle":
		res, verr = sigstore.Verify(ctx, material, art, p)
	case "signature":
		if art.Reader == nil {
			return usageError{errors.New("--signature needs the artifact file, not a digest")}
		}
		if bf.predicateType != "" {
			return usageError{errors.New("--type applies to attestations (--envelope or --bundle)")}
		}
		res, verr = sigstore.VerifySignature(ctx, material, art.Reader, p.Key)
	case "envelope":
		res, verr = sigstore.VerifyEnvelope(ctx, material, art, p.Key, bf.predicateType)
	}
	var se *sigstore.Error
	if errors.As(verr, &se) && errors.Is(se, sigstore.ErrPolicy) {
		return usageError{verr}
	}
	rep := blobReport(artifactArg, mode, res, verr)
	if err := writeBlobReport(cmd.OutOrStdout(), bf.output, rep, res); err != nil {
		return err
	}
	if code := rep.Verdict.ExitCode(); code != 0 {
		return exitError{code}
	}
	return nil
}

// blobMaterial reads the one signature input that was given.
func blobMaterial(bf *blobFlags, bundleOnly bool) (mode string, data []byte, err error) {
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
		data, err = readSmall(bf.bundle, 64<<20)
	case bf.signature != "":
		mode = "signature"
		data, err = readSmall(bf.signature, sigstore.MaxSignature+1)
	default:
		mode = "envelope"
		data, err = readSmall(bf.envelope, 64<<20)
	}
	if err != nil {
		return "", nil, usageError{err}
	}
	return mode, data, nil
}

// readSmall reads a file of at most max bytes (one more is read to tell).
func readSmall(path string, max int64) ([]byte, error) {
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
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
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
func blobReport(artifactArg, mode string, res *sigstore.Result, verr error) *verify.Report {
	rep := &verify.Report{Schema: verify.SchemaVersion, Source: verify.Source{Path: artifactArg, Format: "blob"},
		Images: []verify.Image{}, Findings: []verify.Finding{}}
	kind := map[string]string{"bundle": "sigstore-bundle", "signature": "signature", "envelope": "dsse"}[mode]
	if res.Payload != nil && mode == "bundle" {
		kind = "sigstore-bundle-attestation"
	}
	a := res.Attestation(kind, mode)
	for _, c := range a.Checks {
		if c.Status == "pass" {
			rep.Pass()
		}
	}
	if res.Verified && res.ArtifactDigest != "" {
		a.Binds = append(a.Binds, verify.Binding{Digest: res.ArtifactDigest, Node: "artifact", Path: artifactArg})
	}
	rep.Attestations = []verify.Attestation{a}
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

func writeBlobReport(w io.Writer, output string, rep *verify.Report, res *sigstore.Result) error {
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
		if t := res.IntegratedTime(); !t.IsZero() {
			fmt.Fprintf(&b, "  logged:    %s\n", t.Format("2006-01-02T15:04:05Z"))
		}
		for _, c := range a.Checks {
			fmt.Fprintf(&b, "  %-4s %s", c.Status, c.Name)
			if c.Message != "" {
				fmt.Fprintf(&b, ": %s", c.Message)
			}
			b.WriteString("\n")
		}
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "  %s %s\n", f.Code, f.Message)
	}
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
