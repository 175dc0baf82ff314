#!/usr/bin/env bash
# make.sh: re-creates the in-toto demo fixtures in this directory with the
# Python reference implementation (Debian bookworm: apt-get install in-toto,
# which is in-toto 1.3.1 with securesystemslib 0.26). For each key type
# (rsa: PEM keys; ed25519, ecdsa: securesystemslib JSON keys, as
# in-toto-keygen writes them), alice signs the layout, bob clones and
# updates the project, carl packages it, and in-toto-verify must accept the
# result. The keys are fresh each run, so the committed files change.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com
export GIT_AUTHOR_DATE=2020-01-01T00:00:00Z GIT_COMMITTER_DATE=2020-01-01T00:00:00Z
mkdir -p "$work/upstream/src"
printf 'VERSION = "foo-v0"\n\nprint("Hello in-toto")\n' >"$work/upstream/src/foo.py"
git -C "$work/upstream/src" init -q && git -C "$work/upstream/src" add foo.py && git -C "$work/upstream/src" commit -qm demo
git clone -q --bare "$work/upstream/src" "$work/upstream/demo-project.git"
for kt in rsa ed25519 ecdsa; do
	d=$work/$kt
	mkdir -p "$d/bob" "$d/carl" "$d/final"
	ln -s ../upstream "$d/upstream"
	(cd "$d" && in-toto-keygen -t "$kt" alice >/dev/null && in-toto-keygen -t "$kt" bob/bob >/dev/null && in-toto-keygen -t "$kt" carl/carl >/dev/null)
	cp "$d/bob/bob.pub" "$d/carl/carl.pub" "$d/"
	$py "$here/layout.py" "$kt" "$d"
	cd "$d/bob"
	in-toto-run -t "$kt" -k bob -n clone --products demo-project/foo.py -- git clone -q ../upstream/demo-project.git demo-project
	in-toto-record start -t "$kt" -k bob -n update-version --materials demo-project/foo.py
	printf 'VERSION = "foo-v1"\n\nprint("Hello in-toto")\n' >demo-project/foo.py
	in-toto-record stop -t "$kt" -k bob -n update-version --products demo-project/foo.py
	cp -r demo-project "$d/carl/"
	cd "$d/carl"
	in-toto-run -t "$kt" -k carl -n package --materials demo-project/foo.py --products demo-project.tar.gz \
		--record-streams -- tar --exclude .git -zcvf demo-project.tar.gz demo-project >/dev/null
	cp "$d/root.layout" "$d/alice.pub" "$d/bob.pub" "$d/carl.pub" "$d"/bob/*.link "$d"/carl/*.link "$d/carl/demo-project.tar.gz" "$d/final/"
	(cd "$d/final" && in-toto-verify -t "$kt" --layout root.layout --layout-keys alice.pub >/dev/null)
	rm -rf "$d/final/demo-project" "$d/final/untar.link"
	chmod 0644 "$d"/final/*
	rm -rf "${here:?}/$kt" && mkdir -p "$here/$kt" && cp "$d"/final/* "$here/$kt/"
done
