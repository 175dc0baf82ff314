// Package deploy holds no code: its tests check the deployment files
// under this directory (Kubernetes manifests, the Tekton Task) by decoding
// them strictly and running the command lines they hold against the real
// CLI.
package deploy
