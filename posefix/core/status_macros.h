#ifndef POSEFIX_CORE_STATUS_MACROS_H_
#define POSEFIX_CORE_STATUS_MACROS_H_

// Early returns on errors, for functions that return absl::Status or
// absl::StatusOr (Abseil keeps its own macros internal).
//
//   RETURN_IF_ERROR(WriteTextProto(path, metrics));
//   ASSIGN_OR_RETURN(CocoDataset gt, ReadCocoDataset(path));
//   ASSIGN_OR_RETURN(options.schema, ResolveKeypointSchema(name, folder));

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns the status of `expr` (an absl::Status) when it is an error.
#define RETURN_IF_ERROR(expr)                                           \
  do {                                                                  \
    if (::absl::Status posefix_status = (expr); !posefix_status.ok()) { \
      return posefix_status;                                            \
    }                                                                   \
  } while (false)

// Evaluates `expr` (an absl::StatusOr<T>): returns its status when it is an
// error, else moves its value into `lhs` (a declaration or an lvalue).
#define ASSIGN_OR_RETURN(lhs, expr)                                                              \
  POSEFIX_ASSIGN_OR_RETURN_IMPL(POSEFIX_STATUS_MACROS_CONCAT(posefix_status_or_, __LINE__), lhs, \
                                expr)

#define POSEFIX_ASSIGN_OR_RETURN_IMPL(status_or, lhs, expr)  \
  auto status_or = (expr);                                   \
  if (!status_or.ok()) return std::move(status_or).status(); \
  lhs = *std::move(status_or)

#define POSEFIX_STATUS_MACROS_CONCAT(a, b) POSEFIX_STATUS_MACROS_CONCAT_INNER(a, b)
#define POSEFIX_STATUS_MACROS_CONCAT_INNER(a, b) a##b

#endif  // POSEFIX_CORE_STATUS_MACROS_H_
