# Writes the man pages of `ctng` into OUT: ctng.1 and one ctng-CMD.1 per
# command, made from the binary's own help (`ctng --help`, `ctng help
# --commands`, `ctng help CMD`), so the pages say exactly what --help says.
# Run at build time: cmake -DCTNG=path/to/ctng -DOUT=dir -DVERSION=x.y.z -P manpages.cmake
file(MAKE_DIRECTORY ${OUT})

# roff-escapes a block of text for a .nf section.
function(roff_block text outvar)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  set(${outvar} "${text}" PARENT_SCOPE)
endfunction()

execute_process(COMMAND ${CTNG} help --commands OUTPUT_VARIABLE list RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ctng help --commands failed")
endif()
string(REPLACE "\n" ";" lines "${list}")
set(commands "")
foreach(l ${lines})
  if(NOT l MATCHES " " AND NOT l STREQUAL "")
    list(APPEND commands ${l})
  endif()
endforeach()

set(head "\"ctng ${VERSION}\" \"CTng manual\"")
set(see "")
set(cmd_items "")
foreach(c ${commands})
  execute_process(COMMAND ${CTNG} help ${c} OUTPUT_VARIABLE help RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ctng help ${c} failed")
  endif()
  # First line: "ctng CMD — summary"; then a blank line and the usage text.
  string(FIND "${help}" "\n" nl)
  string(SUBSTRING "${help}" 0 ${nl} first)
  math(EXPR start "${nl} + 1")
  string(SUBSTRING "${help}" ${start} -1 body)
  string(STRIP "${body}" body)
  string(REGEX REPLACE "^ctng [^ ]+ — " "" summary "${first}")
  roff_block("${summary}" summary_r)
  roff_block("${body}" body_r)
  string(TOUPPER "${c}" C)
  file(WRITE ${OUT}/ctng-${c}.1
    ".TH CTNG-${C} 1 \"\" ${head}\n"
    ".SH NAME\nctng\\-${c} \\- ${summary_r}\n"
    ".SH SYNOPSIS\n.nf\n${body_r}\n.fi\n"
    ".SH DESCRIPTION\nThis page is the text of\n.B ctng help ${c}\n"
    "(the same as\n.BR \"ctng ${c} \\-\\-help\" ).\n"
    "Exit status: 0 success or valid, 1 invalid (a verification failed, or a\n"
    "runtime failure), 2 bad usage or malformed input (a one\\-line error on\n"
    "standard error).\n"
    ".SH SEE ALSO\n.BR ctng (1)\n")
  string(APPEND cmd_items ".TP\n.BR ctng\\-${c} (1)\n${summary_r}\n")
  string(APPEND see ".BR ctng\\-${c} (1),\n")
endforeach()

execute_process(COMMAND ${CTNG} --help OUTPUT_VARIABLE top)
string(FIND "${top}" "\n" nl)
math(EXPR start "${nl} + 1")
file(WRITE ${OUT}/ctng.1
  ".TH CTNG 1 \"\" ${head}\n"
  ".SH NAME\nctng \\- certificate and revocation transparency with no trusted third party\n"
  ".SH SYNOPSIS\n.B ctng\n.I COMMAND\n.RI [ ARGS... ]\n.br\n"
  ".B ctng help\n.RI [ COMMAND \" \" [ SUBCOMMAND ]]\n.br\n"
  ".B ctng\n.I COMMAND\n.RI [ SUBCOMMAND ]\n.B \\-\\-help\n.br\n"
  ".B ctng \\-\\-version\n"
  ".SH DESCRIPTION\n"
  "One binary runs every part of a CTng network: loggers keep append\\-only\n"
  "RFC 6962 Merkle logs and sign one tree head per period, CAs issue X.509\n"
  "certificates that carry CTng inclusion proofs and sign a revocation update\n"
  "per period, monitors pull them, gossipers cross\\-check what monitors saw and\n"
  "threshold\\-sign it with BLS12\\-381, and relying parties validate\n"
  "certificates offline with one update per period.\n"
  "Every command and subcommand answers\n.B \\-\\-help\n"
  "and exits 0;\n.B ctng \\-\\-version\n"
  "prints the version and the git commit of the build.\n"
  ".SH COMMANDS\n${cmd_items}"
  ".SH EXIT STATUS\n0 success or valid; 1 invalid (a verification failed) or a runtime\n"
  "failure; 2 bad usage or malformed input, with a one\\-line error on standard error.\n"
  ".SH FILES\n.TP\n.I /etc/ctng/network.json\nthe public description of the network\n"
  ".TP\n.I /etc/ctng/ID/config.json\nthe private configuration of node ID (mode 0600)\n"
  ".TP\n.I /var/lib/ctng/ID/\nits data (SQLite database, reports), with the systemd units\n"
  ".BR ctng\\-logger@.service ,\n.BR ctng\\-ca@.service ,\n"
  ".BR ctng\\-monitor@.service ,\n.BR ctng\\-gossiper@.service\n"
  ".SH SEE ALSO\n${see}.BR systemd.exec (5)\n")
