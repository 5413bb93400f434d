/* main.c - entry point of the mmapobj tool: global options and dispatch to the
 * commands (one file per command: cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "tool.h"

static const struct tool_cmd *const commands[] = {
    &cmd_stat, &cmd_get, &cmd_keys, &cmd_dump, &cmd_load, &cmd_verify, &cmd_compact,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static int print_main_help(void)
{
    printf("Usage: mmapobj COMMAND [OPTIONS] FILE [ARGS]\n"
           "\n"
           "Inspect, check, export, import and compact mmapobj map files.\n"
           "\n"
           "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  %-9s %s\n", commands[i]->name, commands[i]->summary);
    printf("\n"
           "Options:\n"
           "  -h, --help     show this help (or 'mmapobj COMMAND --help')\n"
           "  -V, --version  show the tool, library, ABI and file format versions\n"
           "\n"
           "Exit status: 0 ok, 1 key absent (get), 2 file damaged or unsupported,\n"
           "64 usage error, 65 bad input data (load), 66 cannot open input,\n"
           "70 internal error, 73 cannot create output, 74 I/O error,\n"
           "75 file locked by another writer, 130 interrupted.\n");
    return tool_finish_stdout();
}

static int print_version(void)
{
    printf("mmapobj %d.%d.%d (library %s, ABI %d, file format %d.%d)\n", MMAPOBJ_VERSION_MAJOR,
           MMAPOBJ_VERSION_MINOR, MMAPOBJ_VERSION_PATCH, mmapobj_version_string(),
           mmapobj_abi_version(), MMAPOBJ_FORMAT_MAJOR, MMAPOBJ_FORMAT_MINOR);
    return tool_finish_stdout();
}

static const struct tool_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return tool_usage_error("missing command");
    const char *arg = argv[1];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
        return print_main_help();
    if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0)
        return print_version();
    if (strcmp(arg, "help") == 0) {
        if (argc == 2)
            return print_main_help();
        const struct tool_cmd *c = find_command(argv[2]);
        if (!c)
            return tool_usage_error("unknown command '%s'", argv[2]);
        return tool_print_help(c);
    }
    if (arg[0] == '-')
        return tool_usage_error("unknown option '%s' (options go after the command)", arg);
    const struct tool_cmd *cmd = find_command(arg);
    if (!cmd)
        return tool_usage_error("unknown command '%s'", arg);
    tool_cmd_name = cmd->name;
    /* argv[1] becomes the command's argv[0] for getopt. */
    return cmd->run(argc - 1, argv + 1);
}
