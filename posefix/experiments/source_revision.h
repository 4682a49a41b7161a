#ifndef POSEFIX_EXPERIMENTS_SOURCE_REVISION_H_
#define POSEFIX_EXPERIMENTS_SOURCE_REVISION_H_

// The revision of the source a run was built from, recorded in its metrics
// (RunMetrics.source_revision) so that a result names the code behind it.

#include <string>

namespace posefix {

// `git rev-parse HEAD` of `checkout` ("-dirty" appended when `git status
// --porcelain` lists changes to tracked files), or "unknown" when `checkout`
// is empty or no git checkout.
std::string SourceRevision(const std::string& checkout);

}  // namespace posefix

#endif  // POSEFIX_EXPERIMENTS_SOURCE_REVISION_H_
