//go:build !js

package notary

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/verify"
)

// Check names and what each establishes when it passes.
var passed = map[trustpolicy.ValidationType]string{
	trustpolicy.TypeIntegrity:          "envelope signature and critical headers verified",
	trustpolicy.TypeAuthenticity:       "chain leads to the trust store and the signer is a trusted identity",
	trustpolicy.TypeExpiry:             "the signature has not expired",
	trustpolicy.TypeAuthenticTimestamp: "the certificates were valid at the authentic signing time",
	trustpolicy.TypeRevocation:         "",
}

// failCode is the finding code of an enforced check that failed.
var failCode = map[trustpolicy.ValidationType]verify.Code{
	trustpolicy.TypeIntegrity:          attest.CodeSignatureInvalid,
	trustpolicy.TypeAuthenticity:       attest.CodeSignerUntrusted,
	trustpolicy.TypeExpiry:             attest.CodeSignatureExpired,
	trustpolicy.TypeAuthenticTimestamp: attest.CodeSigningTimeInvalid,
	trustpolicy.TypeRevocation:         attest.CodeCertificateRevoked,
}

func unverifiable(code verify.Code, msg string) attest.NotaryResult {
	return attest.NotaryResult{BundleResult: attest.BundleResult{
		Checks:  []attest.Check{{Name: "trustPolicy", Status: attest.CheckFail, Message: msg}},
		Finding: &verify.Finding{Code: code, Severity: verify.SeverityUnverifiable, Message: msg}}}
}

// translate turns notation-go's outcome into imgproof's checks and
// findings. A check the trust policy only logs is a warning; an enforced
// check that failed fails the signature, except a revocation check that
// could not run, which is UNVERIFIABLE.
func translate(sig attest.NotarySignature, ref string, outcome *notation.VerificationOutcome, err error, rec recorders) attest.NotaryResult {
	var nie notation.NoApplicableTrustPolicyError
	switch {
	case outcome == nil && errors.As(err, &nie):
		return unverifiable(attest.CodeNoTrustPolicy, "no trust policy statement applies to "+ref+": "+err.Error())
	case outcome == nil:
		return unverifiable(attest.CodeNoTrustPolicy, "notation verification: "+errString(err))
	}
	out := attest.NotaryResult{Signature: info(sig.MediaType, outcome, rec)}
	level := outcome.VerificationLevel.Name
	if level == trustpolicy.LevelSkip.Name {
		out.Checks = append(out.Checks, attest.Check{Name: "trustPolicy", Status: attest.CheckSkip, Message: "level skip for " + ref + ": not verified"})
		out.Finding = &verify.Finding{Code: attest.CodeNotChecked, Severity: verify.SeverityInfo,
			Message: "the trust policy's level for " + ref + " is skip: the signature is not verified and does not count"}
		return out
	}
	out.Checks = append(out.Checks, attest.Check{Name: "trustPolicy", Status: attest.CheckPass, Message: "level " + level + " for " + ref})
	var enforced *notation.ValidationResult
	// established: integrity and authenticity both ran and passed.
	var integrityOK, authenticityOK bool
	ranRevocation := false
	for _, res := range outcome.VerificationResults {
		if res == nil {
			continue
		}
		name := string(res.Type)
		ranRevocation = ranRevocation || res.Type == trustpolicy.TypeRevocation
		msg := passed[res.Type]
		if res.Type == trustpolicy.TypeRevocation {
			msg = rec.codeSigning.summary("signing")
		}
		if res.Type == trustpolicy.TypeAuthenticTimestamp && sig.MediaType != "" {
			msg += timestampNote(outcome, rec)
		}
		switch {
		case res.Error == nil:
			out.Checks = append(out.Checks, attest.Check{Name: name, Status: attest.CheckPass, Message: msg})
		case res.Action == trustpolicy.ActionEnforce:
			out.Checks = append(out.Checks, attest.Check{Name: name, Status: attest.CheckFail, Message: res.Error.Error()})
			if enforced == nil {
				enforced = res
			}
		case res.Action == trustpolicy.ActionLog:
			m := res.Error.Error() + " (level " + level + " logs this check, it does not enforce it)"
			out.Checks = append(out.Checks, attest.Check{Name: name, Status: attest.CheckFail, Message: m})
			code := failCode[res.Type]
			if offlineRevocation(res, rec) {
				code = attest.CodeRevocationUnavailable
			}
			out.Warnings = append(out.Warnings, verify.Finding{Code: code, Severity: verify.SeverityWarning, Message: name + ": " + m})
		default:
			out.Checks = append(out.Checks, attest.Check{Name: name, Status: attest.CheckSkip, Message: res.Error.Error() + " (skipped by the trust policy)"})
		}
		switch {
		case res.Type == trustpolicy.TypeIntegrity:
			integrityOK = res.Error == nil
		case res.Type == trustpolicy.TypeAuthenticity:
			authenticityOK = res.Error == nil
		}
	}
	if !ranRevocation {
		why := "signing chain: not run, the trust policy skips the revocation check"
		if outcome.VerificationLevel.Enforcement[trustpolicy.TypeRevocation] != trustpolicy.ActionSkip {
			why = "signing chain: not reached, verification stopped at a failed check"
		}
		out.Signature.Revocation = strings.TrimPrefix(out.Signature.Revocation+"; "+why, "; ")
	}
	if enforced != nil {
		f := verify.Finding{Code: failCode[enforced.Type], Message: string(enforced.Type) + ": " + enforced.Error.Error()}
		if enforced.Type == trustpolicy.TypeAuthenticity {
			// An untrusted signer disproves nothing: another signature may
			// be trusted. Alone, it leaves the image unsigned (E_UNSIGNED).
			f.Severity = verify.SeverityWarning
		}
		if offlineRevocation(enforced, rec) {
			f.Code, f.Severity = attest.CodeRevocationUnavailable, verify.SeverityUnverifiable
			f.Message = string(enforced.Type) + ": a revocation check the trust policy enforces could not run offline: " + enforced.Error.Error()
		}
		out.Finding = &f
		return out
	}
	if !integrityOK || !authenticityOK {
		out.Finding = &verify.Finding{Code: attest.CodeSignerUntrusted, Severity: verify.SeverityUnverifiable,
			Message: "level " + level + " only logs the failed integrity or authenticity check: the signer is not established"}
		return out
	}
	target, perr := payloadTarget(outcome)
	if perr != nil {
		out.Finding = &verify.Finding{Code: attest.CodeStatementInvalid, Message: "signed payload: " + perr.Error()}
		return out
	}
	// With every check passed, the one error notation may still return is
	// its comparison of the payload's targetArtifact with the descriptor,
	// which attest reports with both. Any other (a verification plugin
	// that is required, a runtime error) leaves the signature unverified.
	if err != nil && sameDescriptor(*target, sig.Target) {
		out.Finding = &verify.Finding{Code: attest.CodeNoTrustPolicy, Severity: verify.SeverityUnverifiable,
			Message: "notation could not conclude: " + err.Error()}
		return out
	}
	out.Verified = true
	out.Target = target
	if leaf := leafSubject(outcome); leaf != "" {
		out.Signers = []string{"x509.subject: " + leaf}
	}
	return out
}

func sameDescriptor(a, b ocispec.Descriptor) bool {
	return a.Digest == b.Digest && a.Size == b.Size && a.MediaType == b.MediaType
}

// payloadTarget reads targetArtifact from the verified payload.
func payloadTarget(outcome *notation.VerificationOutcome) (*ocispec.Descriptor, error) {
	if outcome.EnvelopeContent == nil {
		return nil, errors.New("no verified envelope content")
	}
	var p struct {
		TargetArtifact *ocispec.Descriptor `json:"targetArtifact"`
	}
	if err := json.Unmarshal(outcome.EnvelopeContent.Payload.Content, &p); err != nil {
		return nil, err
	}
	if p.TargetArtifact == nil {
		return nil, errors.New("no targetArtifact")
	}
	return p.TargetArtifact, nil
}

// offlineRevocation reports whether an enforced failure comes from a
// revocation status that could not be established offline.
func offlineRevocation(res *notation.ValidationResult, rec recorders) bool {
	// A certificate found revoked decides, whatever else was unknown.
	switch res.Type {
	case trustpolicy.TypeRevocation:
		return rec.codeSigning.revoked() == 0 && rec.codeSigning.unknown() > 0
	case trustpolicy.TypeAuthenticTimestamp:
		return rec.timestamping.revoked() == 0 && rec.timestamping.unknown() > 0
	}
	return false
}

func timestampNote(outcome *notation.VerificationOutcome, rec recorders) string {
	if outcome.EnvelopeContent == nil {
		return ""
	}
	si := outcome.EnvelopeContent.SignerInfo
	switch {
	case si.SignedAttributes.SigningScheme == signature.SigningSchemeX509SigningAuthority:
		return " (notary.x509.signingAuthority: the signing authority's signing time)"
	case len(si.UnsignedAttributes.TimestampSignature) > 0:
		return " (notary.x509: RFC 3161 countersignature against the tsa trust store; timestamping revocation: " + rec.timestamping.summary("timestamping") + ")"
	default:
		return " (notary.x509 without a countersignature: checked at the verification time)"
	}
}

func info(mediaType string, outcome *notation.VerificationOutcome, rec recorders) *attest.SignatureInfo {
	inf := &attest.SignatureInfo{Envelope: mediaType, VerificationLevel: outcome.VerificationLevel.Name}
	if outcome.EnvelopeContent == nil {
		return inf
	}
	si := outcome.EnvelopeContent.SignerInfo
	inf.SigningScheme = string(si.SignedAttributes.SigningScheme)
	if !si.SignedAttributes.SigningTime.IsZero() {
		inf.SigningTime = si.SignedAttributes.SigningTime.UTC().Format(time.RFC3339)
	}
	inf.Timestamped = len(si.UnsignedAttributes.TimestampSignature) > 0
	inf.SigningAgent = si.UnsignedAttributes.SigningAgent
	for _, c := range si.CertificateChain {
		inf.Chain = append(inf.Chain, c.Subject.String())
	}
	var parts []string
	for _, r := range []struct {
		rec   *recorder
		chain string
	}{{rec.codeSigning, "signing"}, {rec.timestamping, "timestamping"}} {
		if r.rec.ran {
			parts = append(parts, r.rec.summary(r.chain))
		}
	}
	inf.Revocation = strings.Join(parts, "; ")
	return inf
}

func leafSubject(outcome *notation.VerificationOutcome) string {
	if outcome.EnvelopeContent == nil || len(outcome.EnvelopeContent.SignerInfo.CertificateChain) == 0 {
		return ""
	}
	return outcome.EnvelopeContent.SignerInfo.CertificateChain[0].Subject.String()
}

func errString(err error) string {
	if err == nil {
		return "no outcome"
	}
	return fmt.Sprint(err)
}
