#include "zetl_proto.h"
