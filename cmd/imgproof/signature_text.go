package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/imgproof/imgproof/attest"
)

// writeSignatureInfo prints what an X.509 signature envelope (Notary
// Project) states, under its attestation line.
func writeSignatureInfo(w io.Writer, a attest.Attestation) {
	s := a.Signature
	if s == nil {
		return
	}
	if len(a.Signers) > 0 {
		fmt.Fprintf(w, "  signer     %s\n", strings.Join(a.Signers, ", "))
	}
	if s.SigningScheme != "" {
		ts := ""
		if s.Timestamped {
			ts = ", RFC 3161 timestamp"
		}
		fmt.Fprintf(w, "  envelope   %s, %s, signed %s%s\n", s.Envelope, s.SigningScheme, s.SigningTime, ts)
	}
	if len(s.Chain) > 0 {
		fmt.Fprintf(w, "  chain      %s\n", strings.Join(s.Chain, " <- "))
	}
	if s.Revocation != "" {
		fmt.Fprintf(w, "  revocation %s\n", s.Revocation)
	}
}
