// rlce_sig: a GCC plugin for the C++ test build (testgen.py). For every
// function the translation unit uses but does not define, it writes one line
// "<assembler name> <mangled function type>" to the file named by
// -fplugin-arg-rlce_sig-out=PATH. The type's mangling carries the return type
// and noexcept, which the symbol's own mangled name lacks.
#include "gcc-plugin.h"
#include "plugin-version.h"
#include "tree.h"
#include "cgraph.h"
#include "cp/cp-tree.h"

int plugin_is_GPL_compatible;

static const char *out_path;

static void report(void *, void *) {
  FILE *out = fopen(out_path, "w");
  if (!out) {
    error("rlce_sig: cannot write %s", out_path);
    return;
  }
  cgraph_node *node;
  FOR_EACH_FUNCTION(node) {
    tree decl = node->decl;
    if (node->definition || !TREE_PUBLIC(decl) || DECL_IS_UNDECLARED_BUILTIN(decl))
      continue;
    fprintf(out, "%s %s\n", IDENTIFIER_POINTER(DECL_ASSEMBLER_NAME(decl)), mangle_type_string(TREE_TYPE(decl)));
  }
  fclose(out);
}

int plugin_init(struct plugin_name_args *info, struct plugin_gcc_version *version) {
  if (!plugin_default_version_check(version, &gcc_version))
    return 1;
  for (int i = 0; i < info->argc; i++)
    if (!strcmp(info->argv[i].key, "out"))
      out_path = info->argv[i].value;
  if (!out_path) {
    error("rlce_sig: -fplugin-arg-rlce_sig-out=PATH is required");
    return 1;
  }
  register_callback(info->base_name, PLUGIN_ALL_IPA_PASSES_START, report, nullptr);
  return 0;
}
