# What an interactive zsh offers on TAB: zsh -f zsh-complete.zsh SCRIPT LINE prints one candidate a line.
# SCRIPT is a file to source after compinit, or a directory holding `_stash` for $fpath (autoloaded).
# It starts a zsh on a pseudo-terminal (zpty), loads compinit and SCRIPT, wraps compadd to print
# every candidate it is given, types LINE and a TAB, and reads until the completion has finished.
zmodload zsh/zpty || exit 2
zpty z zsh -f -i
if [[ -d $1 ]]; then zpty -w z "fpath=(${(q)1} \$fpath)"; fi
zpty -w z "PS1='' RPROMPT=''; unsetopt zle_bracketed_paste; autoload -Uz compinit; compinit -u -D"
if [[ -f $1 ]]; then zpty -w z "source ${(q)1}"; fi
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a __hits; builtin compadd -O __hits "$@"; local h; for h in $__hits; do print -rn -- $'\''\n'\''"__HIT__$h"; done; builtin compadd "$@"; }'
# _main_complete runs comppostfuncs once at its end (and empties it): arm it for every completion
zpty -w z '__done() { print -rn -- $'\''\n'\''"__DONE__"; }; compprefuncs=( __arm ); __arm() { comppostfuncs=( __done ) }'
zpty -w z 'bindkey "^I" complete-word; zstyle ":completion:*" menu no; zstyle ":completion:*" list-prompt ""'
# the quotes keep the echo of this command line from matching the pattern; only its output does
zpty -w z "print -r -- __READY''__"
zpty -r z line '*__READY__*' || exit 3
zpty -w -n z "$2"$'\t'
local out='' chunk
integer i=0
# zpty -r -t does not block: poll, for 10 s at most (key names ask a server)
while [[ $out != *__DONE__* ]] && (( i++ < 1000 )); do
  while zpty -r -t z chunk; do out+=$chunk; done
  [[ $out == *__DONE__* ]] || sleep 0.01
done
zpty -d z
[[ $out == *__DONE__* ]] || { print -u2 "zsh: the completion did not finish"; exit 4 }
local l
for l in ${(f)out}; do [[ $l == __HIT__* ]] && print -r -- ${${l#__HIT__}%%$'\r'}; done
return 0
