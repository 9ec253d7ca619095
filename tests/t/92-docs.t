#!/bin/sh
# Every document a file of the project names is in the project: each
# mention of a markdown file (a path, or a bare name ending in .md) in a
# tracked file resolves to a file of the repository, and each one with an
# #anchor to one of its headings (GitHub's anchors).  Users have only what
# is committed here.  Paths under a shell variable other than $TOP are files
# made at run time, not documents, and are left alone.
. "$(dirname "$0")/lib.sh"
if ! command -v git > /dev/null || ! git -C "$TOP" rev-parse --git-dir > /dev/null 2>&1; then
	skip "not a git checkout (or no git): the list of tracked files is unknown"
	done_testing; exit $?
fi
cd "$TOP" || exit 1
# tracked files, and new ones not yet committed (but not ignored ones)
git ls-files --cached --others --exclude-standard -z > "$T/files"
perl -0 -e '
use strict; use warnings;
my @files = grep { -f $_ } split /\0/, do { local $/; open my $f, "<", $ARGV[0] or die; <$f> };
my %have = map { $_ => 1 } @files;
my %base; for (@files) { my ($b) = m{([^/]+)$}; $base{$b} = 1 }
sub slug { my $h = lc shift; $h =~ s/[^\w\- ]//g; $h =~ s/ /-/g; return $h }
my %anchors;
sub anchors_of {
	my $f = shift;
	return $anchors{$f} if $anchors{$f};
	my %a; open my $fh, "<:encoding(UTF-8)", $f or return {};
	local $/ = "\n";
	my $fence = 0;
	while (<$fh>) {
		$fence = !$fence if /^\s*```/;
		next if $fence;
		$a{slug($1)} = 1 if /^#{1,6}\s+(.*?)\s*#*\s*$/;
	}
	return $anchors{$f} = \%a;
}
my ($n, $bad) = (0, 0);
for my $f (@files) {
	open my $fh, "<", $f or next;
	my $text = do { local $/; <$fh> };
	next if !defined $text || substr($text, 0, 8192) =~ /\0/;    # binary
	my $dir = $f =~ m{^(.*)/} ? $1 : ".";
	my $line = 0;
	for my $l (split /\n/, $text) {
		$line++;
		while ($l =~ m{([\w\$\{\}./-]*\w\.md)(#[\w-]+)?(?![\w])}g) {
			my ($doc, $anchor) = ($1, $2);
			$n++;
			$doc =~ s{^\./}{};
			$doc =~ s{^\$\{?TOP\}?/}{};
			next if $doc =~ m{^\$};
			my $target;
			if ($doc =~ m{[\$\{\}]} || $doc =~ m{^/}) {
				# absolute, or a pattern: the name must be one of ours
				my ($b) = $doc =~ m{([^/]+)$};
				$target = $base{$b} ? "" : undef;
			} elsif ($doc !~ m{/}) {
				$target = $have{"$dir/$doc"} ? "$dir/$doc" : $have{$doc} ? $doc : $base{$doc} ? "" : undef;
			} else {
				my $rel = "$dir/$doc"; 1 while $rel =~ s{(^|/)(?!\.\./)[^/]+/\.\./}{$1}; $rel =~ s{^\./}{};
				$target = $have{$doc} ? $doc : $have{$rel} ? $rel : undef;
			}
			if (!defined $target) {
				print "not ok - $f:$line names $doc, which is not in the repository\n"; $bad++;
			} elsif (defined $anchor && $target ne "") {
				my $a = substr($anchor, 1);
				if (!anchors_of($target)->{$a}) {
					print "not ok - $f:$line names $doc$anchor: $target has no heading with that anchor\n"; $bad++;
				}
			}
		}
	}
}
print "# $n mentions of documents checked\n";
exit($bad ? 1 : 0);
' "$T/files" > "$T/out"
rc=$?
sed 's/^not ok - /# /' "$T/out"
ok $rc "every document named in the project is in the project ($(grep -c '^not ok' "$T/out") missing)"
[ -f docs/METHODS.md ]; ok $? "docs/METHODS.md, the project's account of its methods, exists"
grep -q 'arXiv:2604.04287' docs/METHODS.md && grep -q 'lbcb-sci/GFMs' docs/METHODS.md
ok $? "it cites the paper (arXiv 2604.04287) and the authors' repository"
done_testing
