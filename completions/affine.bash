# bash completion for affine(1): commands, options, process ids, CPU and node
# terms of the set grammar, policies and output forms.
# Options come from `affine COMMAND --help`, so they follow the installed binary.

_affine_options() {
    # The options `--help` lists for "$@" (a command, or "xen SUB").
    "${_affine_bin:-affine}" "$@" --help 2>/dev/null |
        awk '/^(Options|OPTIONS):/ { on = 1; next } /^[A-Z][A-Za-z ]*:$/ { on = 0 } on && /^ +-/ { print $1 }' |
        tr ',' '\n' | sed 's/[={].*//; s/\[.*//' | grep -- '^--'
}

_affine_commands() {
    "${_affine_bin:-affine}" help 2>/dev/null | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }'
}

# The subcommands of a command (xen, daemon), from its --help.
_affine_subcommands() {
    "${_affine_bin:-affine}" "$1" --help 2>/dev/null |
        awk '/^(Subcommands|SUBCOMMANDS):/ { on = 1; next } on && /^ +[a-z]/ { print $1 }'
}

# The options numad's usage names (-w, -R, ...).
_affine_numad_options() {
    "${_affine_bin:-affine}" help numad 2>/dev/null | grep -o -- '-[A-Za-z]\b' | sort -u
}

# The CPUs of the host the line names with --host ($_affine_host), else of this
# one, as `affine calc --to json` prints them, one a line.
_affine_cpus() {
    if [[ -n ${_affine_host-} ]]; then
        "${_affine_bin:-affine}" calc all --to json --host "$_affine_host" 2>/dev/null | tr -d '[]' | tr ',' '\n'
    else
        local d
        for d in /sys/devices/system/cpu/cpu[0-9]*; do [ -d "$d" ] && echo "${d##*cpu}"; done
    fi
}

# Every node of that host, CPU-less ones too: the ids of `affine topo --json`'s
# nodes (each node's object opens with its id; `xen topo --json` for a simulated
# Xen host), else sysfs's node directories.
_affine_nodes() {
    if [[ -n ${_affine_host-} ]]; then
        local -a topo=(topo --json --host "$_affine_host")
        [[ $_affine_host == sim:* ]] && topo=(xen --host "$_affine_host" topo --json)
        "${_affine_bin:-affine}" "${topo[@]}" 2>/dev/null |
            sed -n 's/.*"nodes":\[//p' | grep -o '{"id":[0-9]*' | cut -d: -f2
    else
        local d
        for d in /sys/devices/system/node/node[0-9]*; do [ -d "$d" ] && echo "${d##*node}"; done
    fi
}

_affine_cpu_terms() {
    local n
    echo all
    for n in $(_affine_nodes); do echo "node:$n"; done
    printf '%s\n' nodes: core: cores: socket: sockets: package: packages: die: dies: l3: l3s: pu: pus: numa: numas:
    _affine_cpus
}

_affine_node_terms() {
    echo all
    _affine_nodes
}

_affine_pids() {
    local d
    for d in /proc/[0-9]*; do echo "${d#/proc/}"; done
}

# Completes the last term of a comma-separated set: "0-3,no" -> "0-3,node:...".
_affine_complete_set() {
    local cur=$1; shift
    local head="" last=$cur
    if [[ $cur == *,* ]]; then
        head=${cur%,*},
        last=${cur##*,}
    fi
    local neg=""
    if [[ $last == ^* ]]; then
        neg="^"
        last=${last#^}
    fi
    local IFS=$'\n'
    COMPREPLY=($(compgen -P "$head$neg" -W "$("$@")" -- "$last"))
    compopt -o nospace 2>/dev/null || true
}

_affine() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=${COMP_WORDS[COMP_CWORD - 1]}
    local _affine_bin=${COMP_WORDS[0]}
    COMPREPLY=()

    # --json=VALUE: bash splits the word at "=" (COMP_WORDBREAKS); without "=" in
    # COMP_WORDBREAKS the word is whole.
    if [[ $cur == --json=* ]]; then
        COMPREPLY=($(compgen -P --json= -W "compact pretty" -- "${cur#--json=}"))
        return
    elif [[ $cur == = && $prev == --json ]]; then
        COMPREPLY=($(compgen -W "compact pretty"))
        return
    elif [[ $prev == = && ${COMP_WORDS[COMP_CWORD - 2]} == --json ]]; then
        COMPREPLY=($(compgen -W "compact pretty" -- "$cur"))
        return
    fi

    # The command (and xen subcommand), and the positional words after it.
    local cmd="" sub="" i word _affine_host=""
    local -a positional=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        [[ ${COMP_WORDS[i - 1]} == --host && $word != = ]] && _affine_host=$word
        [[ ${COMP_WORDS[i - 2]} == --host && ${COMP_WORDS[i - 1]} == = ]] && _affine_host=$word
        [[ $word == --host=?* ]] && _affine_host=${word#--host=}
        if [[ $word == -- ]]; then
            if [[ $cmd == run || $cmd == shield ]]; then
                # What follows is the command to run.
                if declare -F _command_offset >/dev/null; then
                    _command_offset $((i + 1))
                else
                    COMPREPLY=($(compgen -c -- "$cur"))
                fi
                return
            fi
            continue
        fi
        [[ $word == -* || $word == = ]] && continue
        # The value of an option that takes one is not positional.
        case ${COMP_WORDS[i - 1]} in
            --host | --to | --policy | --mem-policy | --cpus | --nodes | --exclude | --memory | --vcpus | \
                --requests | --state | --state-dir | --config | -I | --intersect | -N | --number-of | --from | --dom0-vcpus | --dom0-memory | --allocated | --node-affinity)
                continue ;;
        esac
        if [[ -z $cmd ]]; then
            cmd=$word
        elif [[ ($cmd == xen || $cmd == daemon || $cmd == help) && -z $sub ]]; then
            sub=$word
        else
            positional+=("$word")
        fi
    done

    case $prev in
        --host)
            if [[ $cmd == xen ]]; then
                COMPREPLY=($(compgen -W "xen sim:" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "live nodes= hwloc:" -- "$cur") $(compgen -f -- "$cur"))
            fi
            compopt -o nospace 2>/dev/null || true
            return ;;
        --to)
            if [[ $cmd == show ]]; then
                COMPREPLY=($(compgen -W "list hex kernel" -- "$cur"))
            elif [[ $cmd == calc ]]; then
                COMPREPLY=($(compgen -W "list hex kernel json hwloc" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "list hex kernel json" -- "$cur"))
            fi
            return ;;
        --policy)
            COMPREPLY=($(compgen -W "best-effort best-effort-hard prio-mem-only any" -- "$cur"))
            return ;;
        --mem-policy)
            COMPREPLY=($(compgen -W "bind preferred interleave weighted-interleave local" -- "$cur"))
            return ;;
        --memory-tier)
            COMPREPLY=($(compgen -W "top any" -- "$cur"))
            return ;;
        --cpus | --exclude)
            _affine_complete_set "$cur" _affine_cpu_terms
            return ;;
        --nodes | --node-affinity)
            if [[ $cmd == run || -n $sub ]]; then
                _affine_complete_set "$cur" _affine_node_terms
                return
            fi ;;
        -I | --intersect | -N | --number-of)
            [[ $cmd == calc ]] && COMPREPLY=($(compgen -W "pu core package die l3 numa" -- "$cur"))
            return ;;
        --requests | --state | --state-dir | --config | --from)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --memory | --vcpus | --dom0-vcpus | --dom0-memory | --allocated)
            return ;;
    esac

    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$(_affine_commands) --help --version" -- "$cur"))
        return
    fi
    if [[ $cmd == help ]]; then
        # help COMMAND [SUBCOMMAND]
        if [[ -z $sub ]]; then
            COMPREPLY=($(compgen -W "$(_affine_commands)" -- "$cur"))
        elif ((${#positional[@]} == 0)); then
            COMPREPLY=($(compgen -W "$(_affine_subcommands "$sub")" -- "$cur"))
        fi
        return
    fi
    if [[ $cmd == numad ]]; then
        [[ $cur == -* ]] && COMPREPLY=($(compgen -W "$(_affine_numad_options)" -- "$cur"))
        return
    fi
    if [[ ($cmd == xen || $cmd == daemon) && -z $sub ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$(_affine_options "$cmd")" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_affine_subcommands "$cmd")" -- "$cur"))
        fi
        return
    fi
    if [[ $cur == -* ]]; then
        if [[ -n $sub ]]; then
            COMPREPLY=($(compgen -W "$(_affine_options "$cmd" "$sub")" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_affine_options "$cmd")" -- "$cur"))
        fi
        return
    fi

    local n=${#positional[@]}
    case $cmd in
        show | bind)
            [[ $cmd == bind && $n -ge 1 ]] && return
            COMPREPLY=($(compgen -W "$(_affine_pids)" -- "$cur")) ;;
        pin)
            if ((n == 0)); then
                _affine_complete_set "$cur" _affine_cpu_terms
            else
                COMPREPLY=($(compgen -W "$(_affine_pids)" -- "$cur"))
            fi ;;
        migrate)
            if ((n == 0)); then
                COMPREPLY=($(compgen -W "$(_affine_pids)" -- "$cur"))
            elif ((n == 1)); then
                _affine_complete_set "$cur" _affine_node_terms
            fi ;;
        calc | shield)
            _affine_complete_set "$cur" _affine_cpu_terms ;;
    esac
}

complete -F _affine affine
