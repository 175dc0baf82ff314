// Package sigstore drives the sigstore-conformance verification cases
// through the imgproof command line, with the suite's client protocol:
//
//	imgproof verify-bundle --bundle FILE --certificate-identity IDENTITY \
//	    --certificate-oidc-issuer URL [--trusted-root FILE] FILE_OR_DIGEST
//	imgproof verify-bundle --bundle FILE --key FILE [--trusted-root FILE] FILE_OR_DIGEST
//
// The cases are read from ../shared/testdata/sigstore-conformance relative
// to the repository root; each folder whose name ends in _fail must fail,
// every other folder must verify.
//
// The package also tests the commands verify-blob and in-toto verify end to
// end: detached signatures and DSSE envelopes made with generated keys,
// identity matching on a real keyless bundle, and generated in-toto supply
// chains. It holds only tests.
package sigstore
