/*  placeholder until the module lands  */
typedef int zetl_placeholder_t;
