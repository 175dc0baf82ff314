package attest

// Build is the build that a keyless signature's Fulcio certificate names,
// from its extensions (OID 1.3.6.1.4.1.57264.1.*): for GitHub Actions, the
// repository, the workflow that signed and the commit it built. Every
// field is as the certificate carries it.
type Build struct {
	// Repository is the source repository URI (.12).
	Repository string `json:"repository,omitempty"`
	// Ref is the source repository ref (.14), for example refs/heads/main.
	Ref string `json:"ref,omitempty"`
	// Commit is the source repository digest (.13), a git commit.
	Commit string `json:"commit,omitempty"`
	// Workflow is the build signer URI (.9): the workflow file and ref
	// that signed, which for a reusable workflow lies in another repository.
	Workflow string `json:"workflow,omitempty"`
	// WorkflowDigest is the build signer digest (.10).
	WorkflowDigest string `json:"workflowDigest,omitempty"`
	// Runner is the runner environment (.11): github-hosted or self-hosted.
	Runner string `json:"runner,omitempty"`
	// Issuer is the OIDC issuer (.8).
	Issuer string `json:"issuer,omitempty"`
	// Invocation is the run invocation URI (.21).
	Invocation string `json:"invocation,omitempty"`
}
