# Deployment: the Kubernetes Job, the CI action and the Tekton Task. Their
# Go tests (./deploy, strict decoding and the command lines) run in
# unit-test; action-lint lints the action's example workflow.
ACTIONLINT ?= $(shell $(GO) env GOPATH)/bin/actionlint

.PHONY: action-lint

action-lint:
	$(ACTIONLINT) deploy/github/example.yml
	bash -n deploy/github/run.sh

ci: action-lint
