#!/bin/sh
# Install rollout-doctor from this checkout where every new shell finds it, then check the sessions
# (README, "Set-up"). Run from anywhere: sh scripts/install.sh
#
# With uv or pipx: a tool install of the checkout (its own environment, its command in the tool bin
# folder, ~/.local/bin by default). With neither: a virtual environment in
# ${XDG_DATA_HOME:-~/.local/share}/rollout-doctor/venv and a link to its command in ~/.local/bin.
# When a login shell would not find that folder on its PATH, one line adding it goes to the file the
# login shell reads (~/.profile, or ~/.bash_profile / ~/.zprofile when that is the one read), and the
# script says so. Every step says what it does; pip and uv show their own progress.
set -eu
cd "$(dirname "$0")/.."
say() { printf 'install: %s\n' "$*" >&2; }
bin=${XDG_BIN_HOME:-$HOME/.local/bin}
started=$(date +%s)
# Built from a copy of what the package is made of: a build in the checkout would leave build/ there,
# and the copy spares the installers a look through .venv/ and the cached Codex releases.
build_from=$(mktemp -d "${TMPDIR:-/tmp}/rollout-doctor-install.XXXXXX")
trap 'rm -rf "$build_from"' EXIT
cp -R pyproject.toml README.md rollout_doctor "$build_from/"

if command -v uv >/dev/null 2>&1; then
    say "uv tool install of $(pwd) (uv $(uv --version | cut -d' ' -f2))"
    uv tool install --force --reinstall "$build_from"
    bin=$(uv tool dir --bin)
elif command -v pipx >/dev/null 2>&1; then
    say "pipx install of $(pwd) (pipx $(pipx --version))"
    pipx install --force "$build_from"
    bin=$(pipx environment --value PIPX_BIN_DIR 2>/dev/null || echo "$bin")
else
    venv=${XDG_DATA_HOME:-$HOME/.local/share}/rollout-doctor/venv
    say "neither uv nor pipx found: a virtual environment in $venv"
    python3 -m venv --clear "$venv" || {
        say "python3 -m venv failed: install python3-venv (Debian, Ubuntu), or uv or pipx, and run this again"
        exit 2
    }
    say "pip install of $(pwd) and its dependencies into it (pip shows each)"
    "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar on "$build_from"
    mkdir -p "$bin"
    ln -sf "$venv/bin/rollout-doctor" "$bin/rollout-doctor"
    say "linked $bin/rollout-doctor -> $venv/bin/rollout-doctor"
fi
say "installed in $(( $(date +%s) - started )) s: $("$bin/rollout-doctor" --version)"

# Does a new login shell find it? Asked of the user's own shell, from a clean environment.
login_shell=${SHELL:-/bin/sh}
case $(basename "$login_shell") in bash|zsh|sh|dash|ksh) ;; *) login_shell=/bin/sh ;; esac
if env -i HOME="$HOME" PATH=/usr/bin:/bin "$login_shell" -lc 'command -v rollout-doctor' >/dev/null 2>&1 </dev/null
then
    say "a new login shell finds rollout-doctor"
else
    case $(basename "$login_shell") in
        zsh) profile=$HOME/.zprofile ;;
        bash) profile=$HOME/.profile
              for f in "$HOME/.bash_profile" "$HOME/.bash_login"; do
                  if [ -f "$f" ]; then profile=$f; break; fi
              done ;;
        *) profile=$HOME/.profile ;;
    esac
    # shellcheck disable=SC2016  # $PATH is expanded by the login shell, not now
    printf '\n# rollout-doctor (scripts/install.sh): its command is in %s\ncase ":$PATH:" in *":%s:"*) ;; *) PATH="%s:$PATH"; export PATH ;; esac\n' \
        "$bin" "$bin" "$bin" >> "$profile"
    say "added $bin to PATH in $profile (new login shells; here now: export PATH=\"$bin:\$PATH\")"
fi
case $(basename "${SHELL:-sh}") in
    fish) say "to guard every codex resume, add to ~/.config/fish/config.fish:  $bin/rollout-doctor shell-init fish | source" ;;
    zsh) say "to guard every codex resume, add to ~/.zshrc:  eval \"\$($bin/rollout-doctor shell-init zsh)\"" ;;
    *) say "to guard every codex resume, add to ~/.bashrc:  eval \"\$($bin/rollout-doctor shell-init bash)\"" ;;
esac

sessions=${CODEX_HOME:-$HOME/.codex}/sessions
if [ -d "$sessions" ]; then
    say "checking your sessions in $sessions"
    set -- check
else
    say "no $sessions yet: checking the bundled fixtures/ instead (they hold broken sessions: exit 1)"
    set -- check fixtures/
fi
rm -rf "$build_from"
exec "$bin/rollout-doctor" "$@"
