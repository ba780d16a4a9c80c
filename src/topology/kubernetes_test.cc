#include "topology/kubernetes.h"

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "topology/document.h"

namespace spofless::topology {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::string read_example(const std::string& file) {
  std::ifstream in(std::string(SPOFLESS_SOURCE_DIR) + "/examples/" + file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> codes(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const Finding& f : findings) out.push_back(f.code + ":" + f.component);
  return out;
}

std::vector<Finding> check(std::string_view yaml) {
  auto m = parse_kubernetes(yaml);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  return m.is_ok() ? analyze_kubernetes(*m) : std::vector<Finding>{};
}

constexpr const char* kWeb = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - {weight: 100, podAffinityTerm: {topologyKey: kubernetes.io/hostname}}
      containers:
        - name: web
          readinessProbe: {httpGet: {path: /ready, port: 80}}
)";

TEST(Kubernetes, RiskyExampleFindsEveryMistake) {
  auto a = analyze_text(read_example("k8s-risky.yaml"));
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_EQ(a->kind, InputKind::kKubernetes);
  EXPECT_THAT(
      codes(a->report.findings),
      UnorderedElementsAre("k8s-pdb-blocks-drain:Deployment/web", "k8s-replicas:StatefulSet/db",
                           "k8s-no-spread:Deployment/web", "k8s-no-readiness:Deployment/web",
                           "k8s-no-readiness:StatefulSet/db"));
}

TEST(Kubernetes, SpreadExampleIsClean) {
  auto a = analyze_text(read_example("k8s-spread.yaml"));
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_THAT(a->report.findings, IsEmpty());
}

TEST(Kubernetes, BudgetThatLeavesRoomIsFineButNoBudgetIsAWarning) {
  EXPECT_THAT(codes(check(kWeb)), ElementsAre("k8s-no-pdb:Deployment/web"));
  std::string with_budget = std::string(kWeb) + R"(---
kind: PodDisruptionBudget
apiVersion: policy/v1
metadata: {name: web}
spec: {minAvailable: 2, selector: {matchLabels: {app: web}}}
)";
  EXPECT_THAT(check(with_budget), IsEmpty());
}

TEST(Kubernetes, PercentBudgetsRoundUpAndCanBlockDrains) {
  std::string blocked = std::string(kWeb) + R"(---
kind: PodDisruptionBudget
apiVersion: policy/v1
metadata: {name: web}
spec: {minAvailable: "90%", selector: {matchLabels: {app: web}}}
)";
  // 90% of 3 rounds up to 3: nothing may be evicted.
  auto findings = check(blocked);
  EXPECT_THAT(codes(findings), ElementsAre("k8s-pdb-blocks-drain:Deployment/web"));
  EXPECT_EQ(findings[0].where.line, 17);  // points at the budget, not the Deployment
  std::string zero = std::string(kWeb) + R"(---
kind: PodDisruptionBudget
apiVersion: policy/v1
metadata: {name: web}
spec: {maxUnavailable: 0, selector: {matchLabels: {app: web}}}
)";
  EXPECT_THAT(codes(check(zero)), ElementsAre("k8s-pdb-blocks-drain:Deployment/web"));
}

TEST(Kubernetes, BudgetsInOtherNamespacesOrForOtherLabelsDoNotCount) {
  std::string other = std::string(kWeb) + R"(---
kind: PodDisruptionBudget
apiVersion: policy/v1
metadata: {name: web, namespace: other}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
---
kind: PodDisruptionBudget
apiVersion: policy/v1
metadata: {name: api}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: api}}}
)";
  EXPECT_THAT(codes(check(other)), ElementsAre("k8s-no-pdb:Deployment/web"));
}

TEST(Kubernetes, ListsAreUnwrappedAndUnmatchedServicesNoted) {
  auto findings = check(R"(apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata: {name: api}
    spec: {selector: {app: api}}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings}
)");
  EXPECT_THAT(codes(findings), ElementsAre("k8s-service-unmatched:Service/api"));
}

TEST(Kubernetes, WrongTypesNameTheFieldAndPosition) {
  auto m = parse_kubernetes(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
      "spec:\n  replicas: three\n");
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().message(), "5:13: Deployment web spec.replicas: expected a whole number");
  auto nameless = parse_kubernetes("apiVersion: v1\nkind: Service\nspec: {}\n");
  ASSERT_FALSE(nameless.is_ok());
  EXPECT_THAT(nameless.status().message(), HasSubstr("metadata.name is missing"));
}

TEST(Kubernetes, SelectorsWithExpressionsOrNoneSelectOnlyWhatTheySay) {
  std::string yaml = std::string(kWeb) + R"(---
kind: PodDisruptionBudget
apiVersion: policy/v1
metadata: {name: db}
spec:
  minAvailable: 3
  selector:
    matchExpressions: [{key: app, operator: In, values: [db]}]
---
kind: PodDisruptionBudget
apiVersion: policy/v1
metadata: {name: nothing}
spec: {maxUnavailable: 0}
---
kind: PodDisruptionBudget
apiVersion: policy/v1
metadata: {name: web}
spec:
  maxUnavailable: 1
  selector:
    matchExpressions: [{key: tier, operator: Exists}, {key: app, operator: NotIn, values: [db]}]
)";
  EXPECT_THAT(check(yaml), IsEmpty());
}

TEST(Kubernetes, HugeReplicaCountsDoNotOverflowPercentages) {
  auto findings = check(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4294967295
  template:
    metadata: {labels: {app: web}}
    spec:
      topologySpreadConstraints: [{maxSkew: 1}]
      containers: [{name: web, readinessProbe: {}}]
---
kind: PodDisruptionBudget
apiVersion: policy/v1
metadata: {name: web}
spec: {minAvailable: "100%", selector: {matchLabels: {app: web}}}
)");
  EXPECT_THAT(codes(findings), ElementsAre("k8s-pdb-blocks-drain:Deployment/web"));
}

TEST(Kubernetes, AnEmptyAntiAffinityRuleSpreadsNothing) {
  std::string yaml = kWeb;
  std::string rule =
      "\n            - {weight: 100, podAffinityTerm: {topologyKey: kubernetes.io/hostname}}";
  yaml.replace(yaml.find(rule), rule.size(), " []");
  yaml +=
      "---\nkind: PodDisruptionBudget\napiVersion: policy/v1\nmetadata: {name: web}\n"
      "spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}\n";
  EXPECT_THAT(codes(check(yaml)), ElementsAre("k8s-no-spread:Deployment/web"));
}

TEST(AnalyzeText, RefusesYamlThatIsNeither) {
  auto a = analyze_text("just: a map\n");
  ASSERT_FALSE(a.is_ok());
  EXPECT_THAT(a.status().message(), HasSubstr("not a spofless topology"));
}

}  // namespace
}  // namespace spofless::topology
